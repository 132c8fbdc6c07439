import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import {
  RoleListRequest,
  subjects,
  UserCreateRequest,
  UserGetRequest,
  UserListRequest,
  UserMfaResetRequest,
  UserPasswordResetRequest,
  UserSetRolesRequest,
  UserUnlockRequest,
  UserUpdateRequest,
} from '@vivified/contracts';
import type {
  RoleListReply,
  UserListReply,
  UserMfaResetReply,
  UserPasswordResetReply,
  UserView,
} from '@vivified/contracts';
import { Handle, NatsRequestContext } from '@vivified/nats-transport';

import { userCaller } from '../caller';
import { InteractiveSessionGate } from '../sessions/interactive-session-gate';
import { AccountResetService } from './account-reset.service';
import { UsersService } from './users.service';

@Controller()
export class UsersHandlers {
  constructor(
    private readonly users: UsersService,
    private readonly resets: AccountResetService,
    private readonly interactive: InteractiveSessionGate,
  ) {}

  @Handle(subjects.identity.users.list)
  list(@Payload() body: UserListRequest): Promise<UserListReply> {
    return this.users.list(body);
  }

  @Handle(subjects.identity.users.get)
  get(@Payload() body: UserGetRequest): Promise<UserView> {
    return this.users.get(body.id);
  }

  @Handle(subjects.identity.users.create)
  create(@Payload() body: UserCreateRequest, @Ctx() ctx: NatsRequestContext): Promise<UserView> {
    return this.users.create(userCaller(ctx.principal), body);
  }

  @Handle(subjects.identity.users.update)
  update(@Payload() body: UserUpdateRequest, @Ctx() ctx: NatsRequestContext): Promise<UserView> {
    return this.users.update(userCaller(ctx.principal), body);
  }

  @Handle(subjects.identity.users.setRoles)
  setRoles(@Payload() body: UserSetRolesRequest, @Ctx() ctx: NatsRequestContext): Promise<UserView> {
    return this.users.setRoles(userCaller(ctx.principal), body);
  }

  @Handle(subjects.identity.users.unlock)
  unlock(@Payload() body: UserUnlockRequest, @Ctx() ctx: NatsRequestContext): Promise<UserView> {
    return this.users.unlock(userCaller(ctx.principal), body.id);
  }

  // Admin resets change another user's credentials: an interactive session's, never an API key's (a leaked
  // user_manager key could otherwise strip an admin's second factor and set its password; docs/identity.md)
  @Handle(subjects.identity.users.passwordReset)
  async passwordReset(
    @Payload() body: UserPasswordResetRequest,
    @Ctx() ctx: NatsRequestContext,
  ): Promise<UserPasswordResetReply> {
    const caller = await this.interactive.caller(ctx, 'user.password.reset', {
      userId: body.id,
      category: 'user',
    });

    return this.resets.resetPassword(userCaller(caller), body);
  }

  @Handle(subjects.identity.users.mfaReset)
  async mfaReset(
    @Payload() body: UserMfaResetRequest,
    @Ctx() ctx: NatsRequestContext,
  ): Promise<UserMfaResetReply> {
    const caller = await this.interactive.caller(ctx, 'user.mfa.reset', {
      userId: body.id,
      category: 'user',
    });

    return this.resets.resetMfa(userCaller(caller), body);
  }

  @Handle(subjects.identity.roles.list)
  roles(@Payload() _body: RoleListRequest): Promise<RoleListReply> {
    return this.users.listRoles();
  }
}
