import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import {
  ChangePasswordRequest,
  LoginRequest,
  LogoutAllRequest,
  MeRequest,
  RequiredPasswordChangeRequest,
  subjects,
} from '@vivified/contracts';
import type { ChangePasswordReply, LoginReply, LogoutAllReply, UserProfile } from '@vivified/contracts';
import { Handle, NatsRequestContext } from '@vivified/nats-transport';

import { userCaller } from '../caller';
import { PasswordChangeService } from '../password/password-change.service';
import { RequiredPasswordChangeService } from '../password/required-password-change.service';
import { InteractiveSessionGate } from '../sessions/interactive-session-gate';
import { SignOutService } from '../sessions/sign-out.service';
import { UsersService } from '../users/users.service';
import { LoginService } from './login.service';

@Controller()
export class AuthHandlers {
  constructor(
    private readonly logins: LoginService,
    private readonly users: UsersService,
    private readonly passwordChanges: PasswordChangeService,
    private readonly requiredChanges: RequiredPasswordChangeService,
    private readonly signOut: SignOutService,
    private readonly interactive: InteractiveSessionGate,
  ) {}

  @Handle(subjects.identity.auth.login)
  login(@Payload() body: LoginRequest): Promise<LoginReply> {
    return this.logins.login(body);
  }

  @Handle(subjects.identity.auth.me)
  me(@Payload() _body: MeRequest, @Ctx() ctx: NatsRequestContext): Promise<UserProfile> {
    return this.users.profile(userCaller(ctx.principal));
  }

  @Handle(subjects.identity.auth.changePassword)
  async changePassword(
    @Payload() body: ChangePasswordRequest,
    @Ctx() ctx: NatsRequestContext,
  ): Promise<ChangePasswordReply> {
    return this.passwordChanges.change(
      userCaller(await this.interactive.caller(ctx, 'password.change')),
      body,
    );
  }

  @Handle(subjects.identity.auth.logoutAll)
  async logoutAll(
    @Payload() _body: LogoutAllRequest,
    @Ctx() ctx: NatsRequestContext,
  ): Promise<LogoutAllReply> {
    return this.signOut.everywhere(userCaller(await this.interactive.caller(ctx, 'session.logout_all')));
  }

  /** Public: the password-change token in the body is the credential (the service verifies it). */
  @Handle(subjects.identity.auth.requiredPasswordChange)
  requiredPasswordChange(@Payload() body: RequiredPasswordChangeRequest): Promise<LoginReply> {
    return this.requiredChanges.change(body);
  }
}
