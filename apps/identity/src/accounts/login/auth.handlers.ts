import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { ChangePasswordRequest, LoginRequest, MeRequest, subjects } from '@vivified/contracts';
import type { ChangePasswordReply, LoginReply, UserProfile } from '@vivified/contracts';
import { Handle, NatsRequestContext } from '@vivified/nats-transport';

import { userCaller } from '../caller';
import { PasswordChangeService } from '../password/password-change.service';
import { UsersService } from '../users/users.service';
import { LoginService } from './login.service';

@Controller()
export class AuthHandlers {
  constructor(
    private readonly logins: LoginService,
    private readonly users: UsersService,
    private readonly passwordChanges: PasswordChangeService,
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
  changePassword(
    @Payload() body: ChangePasswordRequest,
    @Ctx() ctx: NatsRequestContext,
  ): Promise<ChangePasswordReply> {
    return this.passwordChanges.change(userCaller(ctx.principal), body);
  }
}
