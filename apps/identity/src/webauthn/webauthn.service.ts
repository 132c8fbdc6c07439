import { createHmac, randomBytes, randomUUID } from 'node:crypto';

import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type {
  PasskeyAuthenticationCredential,
  PasskeyList,
  PasskeyLoginOptionsReply,
  PasskeyRegisterOptionsReply,
  PasskeyRegistrationCredential,
  PasskeyRemoveReply,
  PasskeySummary,
  TokenPair,
} from '@vivified/contracts';
import { ErrorCode, VivifiedError } from '@vivified/contracts';
import type { AuditEmitter, AuditInput } from '@vivified/service-kit';
import { AUDIT_EMITTER, SERVICE_CONFIG } from '@vivified/service-kit';

import type { IdentityConfig } from '../config';
import type { TokenIssuer, UserDirectory, UserSnapshot } from '../identity.ports';
import { TOKEN_ISSUER, USER_DIRECTORY } from '../identity.ports';
import type { WebauthnOptions } from './webauthn.options';
import { defaultWebauthnOptions, WEBAUTHN_OPTIONS } from './webauthn.options';
import type { StoredChallenge, StoredPasskey } from './webauthn.repository';
import { DuplicatePasskeyError, WebauthnRepository } from './webauthn.repository';

/** COSE algorithms accepted for new passkeys: EdDSA, ES256, RS256 (no post-quantum ones the browser may not know). */
export const SUPPORTED_ALGORITHMS = [-8, -7, -257];

/** Label of a passkey registered without one. */
export const DEFAULT_LABEL = 'Passkey';

/** Where the login came from, as the gateway saw it. */
export interface ClientInfo {
  ip?: string;
  userAgent?: string;
}

/** The WebAuthn user handle of a user: its UUID's 16 bytes, base64url (opaque, no personal data). */
export function userHandleOf(userId: string): string {
  return Buffer.from(userId.replace(/-/g, ''), 'hex').toString('base64url');
}

/**
 * A stable fake credential id for a username without passkeys, so login options look alike whether or not the
 * username exists (HMAC-SHA256 under a per-deployment key).
 */
export function decoyCredentialId(key: Uint8Array, username: string): string {
  return createHmac('sha256', key).update(`webauthn-decoy:${username}`).digest().toString('base64url');
}

/** Config origins (`http://localhost:8080/`) as browsers write them in client data (`http://localhost:8080`). */
export function expectedOrigins(origins: readonly string[]): string[] {
  return [...new Set(origins.map((origin) => new URL(origin).origin))];
}

/** Why a ceremony failed; goes to the audit trail only, never to the caller. */
type FailureReason =
  | 'ceremony_unknown'
  | 'ceremony_expired'
  | 'ceremony_user_mismatch'
  | 'credential_id_mismatch'
  | 'unknown_credential'
  | 'credential_not_allowed'
  | 'user_handle_mismatch'
  | 'verification_failed'
  | 'counter_not_increased'
  | 'user_inactive';

class CeremonyFailure extends Error {
  constructor(
    readonly reason: FailureReason,
    readonly userId?: string,
    readonly passkeyId?: string,
  ) {
    super(reason);
    this.name = 'CeremonyFailure';
  }
}

/** The one answer to every failed passkey login, whatever went wrong (no oracle). */
function invalidCredentials(): VivifiedError {
  return new VivifiedError(ErrorCode.Unauthenticated, 'invalid credentials');
}

function toSummary(passkey: StoredPasskey): PasskeySummary {
  return {
    id: passkey.id,
    label: passkey.label,
    aaguid: passkey.aaguid,
    deviceType: passkey.deviceType,
    backedUp: passkey.backedUp,
    transports: passkey.transports,
    createdAt: passkey.createdAt.toISOString(),
    ...(passkey.lastUsedAt ? { lastUsedAt: passkey.lastUsedAt.toISOString() } : {}),
  };
}

/**
 * Passkey registration and login (WebAuthn, via @simplewebauthn/server). Challenges live in PostgreSQL for
 * {@link WebauthnOptions.challengeTtlMs} and are consumed by the first attempt; user verification is required
 * both ways, so a passkey login is a multi-factor login and opens the same session as password + TOTP.
 */
@Injectable()
export class WebauthnService {
  private readonly options: WebauthnOptions;
  private readonly origins: string[];
  private decoyKey: Promise<Uint8Array> | undefined;

  constructor(
    private readonly repository: WebauthnRepository,
    @Inject(SERVICE_CONFIG) private readonly config: IdentityConfig,
    @Inject(AUDIT_EMITTER) private readonly audit: AuditEmitter,
    @Inject(USER_DIRECTORY) private readonly users: UserDirectory,
    @Inject(TOKEN_ISSUER) private readonly tokens: TokenIssuer,
    @Optional() @Inject(WEBAUTHN_OPTIONS) options?: WebauthnOptions,
  ) {
    this.options = options ?? defaultWebauthnOptions;
    this.origins = expectedOrigins(config.webauthnOrigins);
  }

  /** Options for a new passkey of `userId`, excluding the passkeys it already has. */
  async registrationOptions(userId: string): Promise<PasskeyRegisterOptionsReply> {
    const user = await this.activeCaller(userId);
    const existing = await this.repository.listByUser(user.id);
    const publicKey = await generateRegistrationOptions({
      rpName: this.config.webauthnRpName,
      rpID: this.config.webauthnRpId,
      userName: user.username,
      userDisplayName: user.username,
      userID: new Uint8Array(Buffer.from(userHandleOf(user.id), 'base64url')),
      timeout: this.options.challengeTtlMs,
      attestationType: 'none',
      excludeCredentials: existing.map((passkey) => ({
        id: passkey.credentialId,
        transports: passkey.transports,
      })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
      supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
    });
    const ceremonyId = await this.storeChallenge('registration', publicKey.challenge, user.id, true);

    return { ceremonyId, publicKey };
  }

  /** Verifies a registration response against the caller's stored challenge and stores the passkey. */
  async register(
    userId: string,
    ceremonyId: string,
    credential: PasskeyRegistrationCredential,
    label = DEFAULT_LABEL,
  ): Promise<PasskeySummary> {
    const user = await this.activeCaller(userId);
    const actor = { kind: 'user', id: `user:${user.id}` } as const;
    const fail = async (reason: FailureReason) => {
      await this.emit({ action: 'webauthn.register', outcome: 'failure', actor, details: { reason } });

      return new VivifiedError(ErrorCode.BadRequest, 'passkey registration failed', { reason });
    };
    const challenge = await this.repository.consumeChallenge(ceremonyId, 'registration');
    const problem = this.challengeProblem(challenge, user.id);
    if (problem || !challenge) {
      throw await fail(problem ?? 'ceremony_unknown');
    }
    let info;
    try {
      const result = await verifyRegistrationResponse({
        response: credential,
        expectedChallenge: challenge.challenge,
        expectedOrigin: this.origins,
        expectedRPID: this.config.webauthnRpId,
        requireUserPresence: true,
        requireUserVerification: true,
        supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
      });
      if (!result.verified || !result.registrationInfo.userVerified) {
        throw new Error('not verified');
      }
      info = result.registrationInfo;
    } catch {
      throw await fail('verification_failed');
    }
    let stored: StoredPasskey;
    try {
      stored = await this.repository.insertPasskey(
        {
          id: randomUUID(),
          userId: user.id,
          credentialId: info.credential.id,
          publicKey: info.credential.publicKey,
          signCount: info.credential.counter,
          userHandle: userHandleOf(user.id),
          transports: credential.response.transports ?? [],
          aaguid: info.aaguid,
          deviceType: info.credentialDeviceType,
          backedUp: info.credentialBackedUp,
          label,
        },
        this.options.now(),
      );
    } catch (error) {
      if (error instanceof DuplicatePasskeyError) {
        await this.emit({
          action: 'webauthn.register',
          outcome: 'failure',
          actor,
          details: { reason: 'already_registered' },
        });
        throw new VivifiedError(ErrorCode.Conflict, 'passkey already registered', {
          reason: 'already_registered',
        });
      }
      throw error;
    }
    await this.emit({
      action: 'webauthn.register',
      outcome: 'success',
      actor,
      target: `user:${user.id}`,
      details: {
        passkeyId: stored.id,
        label: stored.label,
        aaguid: stored.aaguid,
        deviceType: stored.deviceType,
      },
    });

    return toSummary(stored);
  }

  /**
   * Options for a passkey login. With a username, `allowCredentials` lists its passkeys (a stable decoy for a
   * username that does not exist or has none) and only they may answer; without, any discoverable passkey may.
   */
  async loginOptions(username?: string): Promise<PasskeyLoginOptionsReply> {
    let allowCredentials: { id: string; transports?: string[] }[] | undefined;
    let user: UserSnapshot | undefined;
    const name = username?.toLowerCase();
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
      timeout: this.options.challengeTtlMs,
      userVerification: 'required',
      ...(allowCredentials ? { allowCredentials } : {}),
    });
    const ceremonyId = await this.storeChallenge(
      'authentication',
      publicKey.challenge,
      user?.id,
      name !== undefined,
    );

    return { ceremonyId, publicKey };
  }

  /**
   * Verifies an assertion and opens a session. Every failure answers the same `Unauthenticated` error; the audit
   * trail says why. A signature counter that does not increase is refused as a possible cloned authenticator.
   */
  async login(
    ceremonyId: string,
    credential: PasskeyAuthenticationCredential,
    client: ClientInfo,
  ): Promise<TokenPair> {
    const clientDetails = {
      ...(client.ip ? { ip: client.ip } : {}),
      ...(client.userAgent ? { userAgent: client.userAgent } : {}),
    };
    try {
      const { user, passkey } = await this.verifyAssertion(ceremonyId, credential);
      const tokens = await this.tokens.startSession(user, { method: 'webauthn', ...client });
      await this.emit({
        action: 'webauthn.login',
        outcome: 'success',
        actor: { kind: 'user', id: `user:${user.id}` },
        target: `user:${user.id}`,
        details: { passkeyId: passkey.id, userVerified: true, ...clientDetails },
      });

      return tokens;
    } catch (error) {
      if (!(error instanceof CeremonyFailure)) {
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

  /** The caller's passkeys, oldest first. */
  async list(userId: string): Promise<PasskeyList> {
    const passkeys = await this.repository.listByUser(userId);

    return { credentials: passkeys.map(toSummary) };
  }

  /** Removes one of the caller's passkeys; another user's passkey is "not found". */
  async remove(userId: string, id: string): Promise<PasskeyRemoveReply> {
    const removed = await this.repository.deletePasskey(userId, id);
    await this.emit({
      action: 'webauthn.remove',
      outcome: removed ? 'success' : 'failure',
      actor: { kind: 'user', id: `user:${userId}` },
      target: `user:${userId}`,
      details: removed ? { passkeyId: id } : { passkeyId: id, reason: 'not_found' },
    });
    if (!removed) {
      throw new VivifiedError(ErrorCode.NotFound, 'passkey not found');
    }

    return { id };
  }

  private async verifyAssertion(
    ceremonyId: string,
    credential: PasskeyAuthenticationCredential,
  ): Promise<{ user: UserSnapshot; passkey: StoredPasskey }> {
    const challenge = await this.repository.consumeChallenge(ceremonyId, 'authentication');
    const problem = this.challengeProblem(challenge);
    if (problem || !challenge) {
      throw new CeremonyFailure(problem ?? 'ceremony_unknown', challenge?.userId);
    }
    if (credential.id !== credential.rawId) {
      throw new CeremonyFailure('credential_id_mismatch', challenge.userId);
    }
    const passkey = await this.repository.findByCredentialId(credential.id);
    if (!passkey) {
      throw new CeremonyFailure('unknown_credential', challenge.userId);
    }
    if (challenge.userBound && challenge.userId !== passkey.userId) {
      throw new CeremonyFailure('credential_not_allowed', passkey.userId, passkey.id);
    }
    const userHandle = credential.response.userHandle;
    if (userHandle !== undefined && userHandle !== passkey.userHandle) {
      throw new CeremonyFailure('user_handle_mismatch', passkey.userId, passkey.id);
    }
    let newCounter: number;
    try {
      // The stored counter is checked below, after the signature, so a regression is told apart from a forgery.
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
      throw new CeremonyFailure('verification_failed', passkey.userId, passkey.id);
    }
    const counter = await this.repository.advanceCounter(passkey.id, newCounter, this.options.now());
    if (!counter) {
      throw new CeremonyFailure('unknown_credential', passkey.userId, passkey.id);
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
      throw new CeremonyFailure('counter_not_increased', passkey.userId, passkey.id);
    }
    const user = await this.users.findActive(passkey.userId);
    if (!user) {
      throw new CeremonyFailure('user_inactive', passkey.userId, passkey.id);
    }

    return { user, passkey };
  }

  /** What is wrong with a consumed challenge, if anything. */
  private challengeProblem(
    challenge: StoredChallenge | undefined,
    userId?: string,
  ): FailureReason | undefined {
    if (!challenge) {
      return 'ceremony_unknown';
    }
    if (challenge.expiresAt.getTime() <= this.options.now().getTime()) {
      return 'ceremony_expired';
    }
    if (userId !== undefined && challenge.userId !== userId) {
      return 'ceremony_user_mismatch';
    }

    return undefined;
  }

  private async storeChallenge(
    kind: StoredChallenge['kind'],
    challenge: string,
    userId: string | undefined,
    userBound: boolean,
  ): Promise<string> {
    const now = this.options.now();
    const id = randomUUID();
    await this.repository.saveChallenge(
      {
        id,
        kind,
        challenge,
        userId,
        userBound,
        expiresAt: new Date(now.getTime() + this.options.challengeTtlMs),
      },
      now,
    );

    return id;
  }

  private async activeCaller(userId: string): Promise<UserSnapshot> {
    const user = await this.users.findActive(userId);
    if (!user) {
      throw new VivifiedError(ErrorCode.Unauthenticated, 'the caller is not an active user');
    }

    return user;
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
