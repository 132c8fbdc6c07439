import { Body, Controller, Delete, Get, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  BackupCodesReply,
  ChangePasswordReply,
  ChangePasswordRequest,
  LoginReply,
  LoginRequest,
  PasskeyList,
  PasskeyLoginOptionsReply,
  PasskeyLoginOptionsRequest,
  PasskeyLoginVerifyRequest,
  PasskeyRegisterOptionsReply,
  PasskeyRegisterVerifyRequest,
  PasskeyRemoveReply,
  PasskeySummary,
  RefreshRequest,
  subjects,
  TokenPair,
  TotpDisableReply,
  TotpDisableRequest,
  TotpEnableReply,
  TotpEnableRequest,
  TotpSetupReply,
  TotpSetupRequest,
  UserProfile,
  LogoutRequest,
} from '@vivified/contracts';

import type { EdgeCaller } from '../core/core-api';
import { CoreApi } from '../core/core-api';
import { Caller } from '../http/caller.decorator';
import { Endpoint } from '../http/endpoint.decorator';

/** The client's address and agent as the gateway saw them; a body can never set them. */
const seenBy = (caller: EdgeCaller) => ({
  ip: caller.ip,
  ...(caller.userAgent ? { userAgent: caller.userAgent } : {}),
});

const bodyOf = (body: unknown): Record<string, unknown> =>
  typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};

/** Login, tokens, MFA and passkeys (ARCHITECTURE §7, "Auth"), each mapped onto identity's NATS API. */
@ApiTags('auth')
@Controller()
export class AuthController {
  constructor(private readonly core: CoreApi) {}

  @Post('v1/auth/login')
  @Endpoint({
    summary: 'Password login, with a TOTP or backup code when enrolled.',
    body: LoginRequest,
    reply: LoginReply,
    auth: false,
    login: true,
  })
  login(@Body() body: unknown, @Caller() caller: EdgeCaller) {
    return this.core.call(
      subjects.identity.auth.login,
      { ...bodyOf(body), ...seenBy(caller) },
      { ip: caller.ip },
    );
  }

  @Post('v1/auth/refresh')
  @Endpoint({
    summary: 'Rotates a refresh token into new tokens.',
    body: RefreshRequest,
    reply: TokenPair,
    auth: false,
    login: true,
  })
  refresh(@Body() body: unknown, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.identity.auth.refresh, body, { ip: caller.ip });
  }

  @Post('v1/auth/logout')
  @Endpoint({
    summary: 'Ends the session of a refresh token.',
    body: LogoutRequest,
    auth: false,
    status: 204,
  })
  async logout(@Body() body: unknown, @Caller() caller: EdgeCaller): Promise<void> {
    await this.core.call(subjects.identity.auth.logout, body, { ip: caller.ip });
  }

  @Get('v1/me')
  @Endpoint({ summary: "The caller's own profile.", reply: UserProfile, auth: true })
  me(@Caller() caller: EdgeCaller) {
    return this.core.call(subjects.identity.auth.me, {}, caller);
  }

  @Post('v1/auth/password')
  @Endpoint({
    summary: 'Changes the caller’s own password; every session ends, so sign in again.',
    body: ChangePasswordRequest,
    reply: ChangePasswordReply,
    auth: true,
  })
  changePassword(@Body() body: unknown, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.identity.auth.changePassword, body, caller);
  }

  @Post('v1/auth/mfa/totp/setup')
  @Endpoint({
    summary: 'Starts TOTP enrolment (enrolment token at first login, or the bearer token).',
    body: TotpSetupRequest,
    reply: TotpSetupReply,
    auth: false,
    login: true,
  })
  totpSetup(@Body() body: unknown, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.identity.mfa.totpSetup, body, caller);
  }

  @Post('v1/auth/mfa/totp/enable')
  @Endpoint({
    summary: 'Confirms TOTP enrolment; answers tokens (first login) and 10 backup codes.',
    body: TotpEnableRequest,
    reply: TotpEnableReply,
    auth: false,
    login: true,
  })
  totpEnable(@Body() body: unknown, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.identity.mfa.totpEnable, { ...bodyOf(body), ...seenBy(caller) }, caller);
  }

  @Post('v1/auth/mfa/totp/disable')
  @Endpoint({
    summary: 'Turns TOTP off (not for roles that require MFA).',
    body: TotpDisableRequest,
    reply: TotpDisableReply,
    auth: true,
  })
  totpDisable(@Body() body: unknown, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.identity.mfa.totpDisable, body, caller);
  }

  @Post('v1/auth/mfa/backup-codes')
  @Endpoint({ summary: 'Replaces the backup codes with 10 new ones.', reply: BackupCodesReply, auth: true })
  backupCodes(@Caller() caller: EdgeCaller) {
    return this.core.call(subjects.identity.mfa.backupCodes, {}, caller);
  }

  @Post('v1/auth/webauthn/register/options')
  @Endpoint({
    summary: 'Registration options for a new passkey.',
    reply: PasskeyRegisterOptionsReply,
    auth: true,
  })
  registerOptions(@Caller() caller: EdgeCaller) {
    return this.core.call(subjects.identity.webauthn.registerOptions, {}, caller);
  }

  @Post('v1/auth/webauthn/register/verify')
  @Endpoint({
    summary: 'Verifies a registration response and stores the passkey.',
    body: PasskeyRegisterVerifyRequest,
    reply: PasskeySummary,
    auth: true,
  })
  registerVerify(@Body() body: unknown, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.identity.webauthn.registerVerify, body, caller);
  }

  @Post('v1/auth/webauthn/login/options')
  @Endpoint({
    summary: 'Authentication options for a passkey login.',
    body: PasskeyLoginOptionsRequest,
    reply: PasskeyLoginOptionsReply,
    auth: false,
    login: true,
  })
  loginOptions(@Body() body: unknown, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.identity.webauthn.loginOptions, body, { ip: caller.ip });
  }

  @Post('v1/auth/webauthn/login/verify')
  @Endpoint({
    summary: 'Verifies a passkey assertion; answers tokens.',
    body: PasskeyLoginVerifyRequest,
    reply: TokenPair,
    auth: false,
    login: true,
  })
  loginVerify(@Body() body: unknown, @Caller() caller: EdgeCaller) {
    return this.core.call(
      subjects.identity.webauthn.loginVerify,
      { ...bodyOf(body), ...seenBy(caller) },
      { ip: caller.ip },
    );
  }

  @Get('v1/auth/webauthn/credentials')
  @Endpoint({ summary: "The caller's passkeys.", reply: PasskeyList, auth: true })
  credentials(@Caller() caller: EdgeCaller) {
    return this.core.call(subjects.identity.webauthn.listCredentials, {}, caller);
  }

  @Delete('v1/auth/webauthn/credentials/:id')
  @Endpoint({ summary: "Removes one of the caller's passkeys.", reply: PasskeyRemoveReply, auth: true })
  removeCredential(@Param('id') id: string, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.identity.webauthn.removeCredential, { id }, caller);
  }
}
