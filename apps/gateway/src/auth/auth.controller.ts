import { Body, Controller, Delete, Get, Param, Post } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiTags, getSchemaPath } from '@nestjs/swagger';
import {
  BackupCodesReply,
  ChangePasswordReply,
  ChangePasswordRequest,
  ErrorCode,
  LoginReply,
  LoginRequest,
  PasskeyList,
  PasskeyLoginOptionsReply,
  PasskeyLoginOptionsRequest,
  PasskeyLoginReply,
  PasskeyLoginVerifyRequest,
  PasskeyRegisterOptionsReply,
  PasskeyRegisterVerifyRequest,
  PasskeyRemoveReply,
  PasskeySummary,
  RefreshRequest,
  RequiredPasswordChangeRequest,
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
  VivifiedError,
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

  /** Log out everywhere: the caller's own access token ends too, so it signs in again (204, as a logout). */
  @Post('v1/auth/logout-all')
  @Endpoint({
    summary:
      'Ends every session of the caller and revokes every access token issued to it (log out everywhere).',
    auth: true,
    status: 204,
  })
  async logoutAll(@Caller() caller: EdgeCaller): Promise<void> {
    await this.core.call(subjects.identity.auth.logoutAll, {}, caller);
  }

  @Get('v1/me')
  @Endpoint({ summary: "The caller's own profile.", reply: UserProfile, auth: true })
  me(@Caller() caller: EdgeCaller) {
    return this.core.call(subjects.identity.auth.me, {}, caller);
  }

  /**
   * Two callers, one route (docs/identity.md "Required password change"): a signed-in user with its bearer token
   * and `{currentPassword, newPassword}` (every session ends: `ChangePasswordReply`), or a user whose login answered
   * `passwordChangeRequired`, with `{passwordChangeToken, newPassword}` and no bearer (answers a `LoginReply`:
   * tokens, or MFA enrolment when its role needs it). Public at the edge because the second has no bearer yet; the
   * first is authenticated here before its body is looked at, and again by identity's guard.
   */
  @Post('v1/auth/password')
  @ApiExtraModels(ChangePasswordRequest, RequiredPasswordChangeRequest)
  @ApiBody({
    schema: {
      oneOf: [
        { $ref: getSchemaPath(ChangePasswordRequest) },
        { $ref: getSchemaPath(RequiredPasswordChangeRequest) },
      ],
    },
  })
  @Endpoint({
    summary:
      'Changes the own password (bearer + currentPassword; every session ends), or the one a login required ' +
      '(passwordChangeToken; answers a LoginReply).',
    reply: ChangePasswordReply,
    auth: false,
    login: true,
  })
  changePassword(@Body() body: unknown, @Caller() caller: EdgeCaller) {
    const fields = bodyOf(body);
    if (fields['passwordChangeToken'] !== undefined) {
      // the token is the credential: the caller's own bearer, if any, is not forwarded with it
      return this.core.call(
        subjects.identity.auth.requiredPasswordChange,
        { ...fields, ...seenBy(caller) },
        { ip: caller.ip },
      );
    }
    if (!caller.bearer && !caller.apiKey) {
      throw new VivifiedError(
        ErrorCode.Unauthenticated,
        'a bearer token, an API key or a passwordChangeToken is required',
        { reason: 'token_missing' },
      );
    }

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
    summary: 'Turns TOTP off (not for roles that require MFA); every session of the user ends.',
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
    summary: 'Verifies a passkey assertion; answers tokens (or a password-change token).',
    body: PasskeyLoginVerifyRequest,
    reply: PasskeyLoginReply,
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
  @Endpoint({
    summary: "Removes one of the caller's passkeys; every session of the user ends.",
    reply: PasskeyRemoveReply,
    auth: true,
  })
  removeCredential(@Param('id') id: string, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.identity.webauthn.removeCredential, { id }, caller);
  }
}
