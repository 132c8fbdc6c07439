import { Body, Controller, Get, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  RoleListReply,
  subjects,
  UserCreateRequest,
  UserListReply,
  UserMfaResetReply,
  UserMfaResetRequest,
  UserPasswordResetReply,
  UserPasswordResetRequest,
  UserSetRolesRequest,
  UserUpdateRequest,
  UserView,
} from '@vivified/contracts';

import type { EdgeCaller } from '../core/core-api';
import { CoreApi } from '../core/core-api';
import { Caller } from '../http/caller.decorator';
import { Endpoint } from '../http/endpoint.decorator';

const bodyOf = (body: unknown): Record<string, unknown> =>
  typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};

/** A query-string integer as the contract wants it; anything else is passed on for the contract to refuse. */
const integer = (value: string | undefined): number | string | undefined =>
  value !== undefined && /^\d{1,6}$/.test(value) ? Number(value) : value;

/** Users and roles (ARCHITECTURE §7): admins assign roles, never raw traits. */
@ApiTags('users')
@Controller()
export class UsersController {
  constructor(private readonly core: CoreApi) {}

  @Get('v1/users')
  @ApiQuery({ name: 'limit', required: false, type: Number })
  @ApiQuery({ name: 'cursor', required: false, type: String })
  @Endpoint({ summary: 'A page of users in username order.', reply: UserListReply, auth: true })
  list(
    @Query('limit') limit: string | undefined,
    @Query('cursor') cursor: string | undefined,
    @Caller() caller: EdgeCaller,
  ) {
    const query = {
      ...(limit === undefined ? {} : { limit: integer(limit) }),
      ...(cursor === undefined ? {} : { cursor }),
    };

    return this.core.call(subjects.identity.users.list, query, caller);
  }

  @Post('v1/users')
  @Endpoint({
    summary: 'Creates a user with roles.',
    body: UserCreateRequest,
    reply: UserView,
    auth: true,
    status: 201,
  })
  create(@Body() body: unknown, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.identity.users.create, body, caller);
  }

  @Get('v1/users/:id')
  @Endpoint({ summary: 'One user.', reply: UserView, auth: true })
  get(@Param('id') id: string, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.identity.users.get, { id }, caller);
  }

  @Patch('v1/users/:id')
  @Endpoint({
    summary: 'Updates email, display name or active (deactivation ends every session).',
    body: UserUpdateRequest,
    reply: UserView,
    auth: true,
  })
  update(@Param('id') id: string, @Body() body: unknown, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.identity.users.update, { ...bodyOf(body), id }, caller);
  }

  @Put('v1/users/:id/roles')
  @Endpoint({ summary: "Replaces a user's roles.", body: UserSetRolesRequest, reply: UserView, auth: true })
  setRoles(@Param('id') id: string, @Body() body: unknown, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.identity.users.setRoles, { ...bodyOf(body), id }, caller);
  }

  @Post('v1/users/:id/unlock')
  @Endpoint({ summary: 'Lifts a lockout.', reply: UserView, auth: true })
  unlock(@Param('id') id: string, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.identity.users.unlock, { id }, caller);
  }

  @Post('v1/users/:id/password-reset')
  @Endpoint({
    summary:
      "Sets another user's one-time password (generated and answered once unless given); the user must change " +
      'it at its next login; ends its sessions and lifts a lockout. Needs an interactive session, not an API key.',
    body: UserPasswordResetRequest,
    reply: UserPasswordResetReply,
    auth: true,
  })
  passwordReset(@Param('id') id: string, @Body() body: unknown, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.identity.users.passwordReset, { ...bodyOf(body), id }, caller);
  }

  @Post('v1/users/:id/mfa-reset')
  @Endpoint({
    summary:
      "Removes another user's TOTP and backup codes (and passkeys with passkeys: true); ends its sessions. " +
      'Needs an interactive session, not an API key.',
    body: UserMfaResetRequest,
    reply: UserMfaResetReply,
    auth: true,
  })
  mfaReset(@Param('id') id: string, @Body() body: unknown, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.identity.users.mfaReset, { ...bodyOf(body), id }, caller);
  }

  @Get('v1/roles')
  @Endpoint({ summary: 'The roles and the traits each grants.', reply: RoleListReply, auth: true })
  roles(@Caller() caller: EdgeCaller) {
    return this.core.call(subjects.identity.roles.list, {}, caller);
  }
}
