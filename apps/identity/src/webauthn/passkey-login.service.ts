import { randomBytes } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import { generateAuthenticationOptions, verifyAuthenticationResponse } from '@simplewebauthn/server';
import type {
  PasskeyAuthenticationCredential,
  PasskeyLoginOptionsReply,
  PasskeyLoginReply,
} from '@vivified/contracts';
import type { AuditEmitter, AuditInput } from '@vivified/service-kit';
import { AUDIT_EMITTER, SERVICE_CONFIG } from '@vivified/service-kit';

import type { IdentityConfig } from '../config';
import type { TokenIssuer, UserDirectory, UserSnapshot } from '../identity.ports';
import { TOKEN_ISSUER, USER_DIRECTORY } from '../identity.ports';
import { CeremonyChallenges } from './ceremony-challenges';
import type { FailureReason } from './passkey-values';
import { decoyCredentialId, expectedOrigins, invalidCredentials } from './passkey-values';
import type { StoredPasskey } from './webauthn.repository';
import { WebauthnRepository } from './webauthn.repository';

/** Where the login came from, as the gateway saw it. */
export interface ClientInfo {
  ip?: string;
  userAgent?: string;
}

/** A failed login step: answered as "invalid credentials", audited with its reason. */
class LoginFailure extends Error {
  constructor(
    readonly reason: FailureReason,
    readonly userId?: string,
    readonly passkeyId?: string,
  ) {
    super(reason);
    this.name = 'LoginFailure';
  }
}

/**
 * Passkey login, with a username or without one (discoverable passkeys). User verification is required, so a
 * passkey login is a multi-factor login and opens the same session as password + TOTP. It honours the password
 * login's account rules: an inactive or locked account gets "invalid credentials", and an account that must change
 * its one-time password gets a password-change token instead of tokens.
 */
@Injectable()
export class PasskeyLoginService {
  private readonly origins: string[];
  private decoyKey: Promise<Uint8Array> | undefined;

  constructor(
    private readonly repository: WebauthnRepository,
    private readonly challenges: CeremonyChallenges,
    @Inject(SERVICE_CONFIG) private readonly config: IdentityConfig,
    @Inject(AUDIT_EMITTER) private readonly audit: AuditEmitter,
    @Inject(USER_DIRECTORY) private readonly users: UserDirectory,
    @Inject(TOKEN_ISSUER) private readonly tokens: TokenIssuer,
  ) {
    this.origins = expectedOrigins(config.webauthnOrigins);
  }

  /**
   * Options for a passkey login. With a username, `allowCredentials` lists its passkeys (a stable decoy for a
   * username that does not exist or has none) and only they may answer; without, any discoverable passkey may.
   */
  async options(username?: string): Promise<PasskeyLoginOptionsReply> {
    let allowCredentials: { id: string; transports?: string[] }[] | undefined;
    let user: UserSnapshot | undefined;
    const name = username?.trim().toLowerCase();
    if (name !== undefined) {
      user = await this.users.findActiveByUsername(name);
      const passkeys = user ? await this.repository.listByUser(user.id) : [];
      allowCredentials =
        passkeys.length > 0
          ? passkeys.map((passkey) => ({ id: passkey.credentialId, transports: passkey.transports }))
          : [{ id: decoyCredentialId(await this.loadDecoyKey(), name), transports: ['hybrid', 'internal'] }];
    }
    const publicKey = await generateAuthenticationOptions({
      rpID: this.config.webauthnRpId,
      timeout: this.challenges.ttlMs,
      userVerification: 'required',
      ...(allowCredentials ? { allowCredentials } : {}),
    });
    const ceremonyId = await this.challenges.issue(
      'authentication',
      publicKey.challenge,
      user?.id,
      name !== undefined,
    );

    return { ceremonyId, publicKey };
  }

  /**
   * Verifies an assertion and opens a session (or, for an account that must change its password, answers a
   * password-change token). Every failure answers the same `Unauthenticated` error; the audit trail says why. A
   * signature counter that does not increase is refused as a possible cloned authenticator.
   */
  async login(
    ceremonyId: string,
    credential: PasskeyAuthenticationCredential,
    client: ClientInfo,
  ): Promise<PasskeyLoginReply> {
    const clientDetails = {
      ...(client.ip ? { ip: client.ip } : {}),
      ...(client.userAgent ? { userAgent: client.userAgent } : {}),
    };
    try {
      const { user, passkey, mustChangePassword } = await this.verify(ceremonyId, credential);
      if (mustChangePassword) {
        const passwordChangeToken = await this.tokens.passwordChangeToken(user, 'webauthn');
        await this.emit({
          action: 'webauthn.login',
          outcome: 'denied',
          actor: { kind: 'user', id: `user:${user.id}` },
          target: `user:${user.id}`,
          details: { reason: 'password_change_required', passkeyId: passkey.id, ...clientDetails },
        });

        return { passwordChangeRequired: true, passwordChangeToken };
      }
      const tokens = await this.tokens.startSession(user, { method: 'webauthn', ...client });
      // a complete login, as a password login's: the failure counters start over
      await this.users.recordLogin(user.id);
      await this.emit({
        action: 'webauthn.login',
        outcome: 'success',
        actor: { kind: 'user', id: `user:${user.id}` },
        target: `user:${user.id}`,
        details: { passkeyId: passkey.id, userVerified: true, ...clientDetails },
      });

      return tokens;
    } catch (error) {
      if (!(error instanceof LoginFailure)) {
        throw error;
      }
      await this.emit({
        action: 'webauthn.login',
        outcome: 'failure',
        actor: { kind: 'anonymous', id: 'anonymous' },
        ...(error.userId ? { target: `user:${error.userId}` } : {}),
        details: {
          reason: error.reason,
          ...(error.passkeyId ? { passkeyId: error.passkeyId } : {}),
          ...clientDetails,
        },
      });
      throw invalidCredentials();
    }
  }

  private async verify(
    ceremonyId: string,
    credential: PasskeyAuthenticationCredential,
  ): Promise<{ user: UserSnapshot; passkey: StoredPasskey; mustChangePassword: boolean }> {
    const consumed = await this.challenges.consume(ceremonyId, 'authentication');
    if (!consumed.ok) {
      throw new LoginFailure(consumed.reason, consumed.userId);
    }
    const { challenge } = consumed;
    if (credential.id !== credential.rawId) {
      throw new LoginFailure('credential_id_mismatch', challenge.userId);
    }
    const passkey = await this.repository.findByCredentialId(credential.id);
    if (!passkey) {
      throw new LoginFailure('unknown_credential', challenge.userId);
    }
    if (challenge.userBound && challenge.userId !== passkey.userId) {
      throw new LoginFailure('credential_not_allowed', passkey.userId, passkey.id);
    }
    const userHandle = credential.response.userHandle;
    if (userHandle !== undefined && userHandle !== passkey.userHandle) {
      throw new LoginFailure('user_handle_mismatch', passkey.userId, passkey.id);
    }
    let newCounter: number;
    try {
      // Counter 0 here: the stored counter is checked below, after the signature, so a regression is told apart
      // from a forgery and checked atomically.
      const result = await verifyAuthenticationResponse({
        response: credential,
        expectedChallenge: challenge.challenge,
        expectedOrigin: this.origins,
        expectedRPID: this.config.webauthnRpId,
        credential: {
          id: passkey.credentialId,
          publicKey: passkey.publicKey,
          counter: 0,
          transports: passkey.transports,
        },
        requireUserVerification: true,
      });
      if (!result.verified || !result.authenticationInfo.userVerified) {
        throw new Error('not verified');
      }
      newCounter = result.authenticationInfo.newCounter;
    } catch {
      throw new LoginFailure('verification_failed', passkey.userId, passkey.id);
    }
    const counter = await this.repository.advanceCounter(passkey.id, newCounter, this.challenges.now());
    if (!counter) {
      throw new LoginFailure('unknown_credential', passkey.userId, passkey.id);
    }
    if (!counter.accepted) {
      await this.emit({
        action: 'webauthn.counter_anomaly',
        outcome: 'denied',
        actor: { kind: 'anonymous', id: 'anonymous' },
        target: `user:${passkey.userId}`,
        details: {
          passkeyId: passkey.id,
          storedCount: counter.stored,
          presentedCount: newCounter,
          suspicion: 'cloned_authenticator',
        },
      });
      throw new LoginFailure('counter_not_increased', passkey.userId, passkey.id);
    }
    const standing = await this.users.loginStanding(passkey.userId);
    if (!standing) {
      throw new LoginFailure('user_inactive', passkey.userId, passkey.id);
    }
    if (standing.locked) {
      // a lock after failed password logins holds for every way in; a passkey failure does not count towards it
      throw new LoginFailure('locked', passkey.userId, passkey.id);
    }

    return { user: standing.user, passkey, mustChangePassword: standing.mustChangePassword };
  }

  private loadDecoyKey(): Promise<Uint8Array> {
    this.decoyKey ??= this.repository.decoyKey(randomBytes(32)).catch((error: unknown) => {
      this.decoyKey = undefined;
      throw error;
    });

    return this.decoyKey;
  }

  private async emit(input: Omit<AuditInput, 'category'>): Promise<void> {
    await this.audit.emit({ category: 'auth', ...input });
  }
}
