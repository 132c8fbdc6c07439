import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import { generateRegistrationOptions, verifyRegistrationResponse } from '@simplewebauthn/server';
import type {
  PasskeyList,
  PasskeyRegisterOptionsReply,
  PasskeyRegistrationCredential,
  PasskeyRemoveReply,
  PasskeySummary,
} from '@vivified/contracts';
import { ErrorCode, VivifiedError } from '@vivified/contracts';
import type { AuditEmitter, AuditInput } from '@vivified/service-kit';
import { AUDIT_EMITTER, SERVICE_CONFIG } from '@vivified/service-kit';

import type { IdentityConfig } from '../config';
import type { SignOut, UserDirectory, UserSnapshot } from '../identity.ports';
import { SIGN_OUT, USER_DIRECTORY } from '../identity.ports';
import { CeremonyChallenges } from './ceremony-challenges';
import type { FailureReason } from './passkey-values';
import {
  DEFAULT_LABEL,
  expectedOrigins,
  SUPPORTED_ALGORITHMS,
  toSummary,
  userHandleOf,
} from './passkey-values';
import type { StoredPasskey } from './webauthn.repository';
import { DuplicatePasskeyError, WebauthnRepository } from './webauthn.repository';

/** Why a user is signed out everywhere when it removes a passkey (revocation, ended sessions, audit). */
const PASSKEY_REMOVED = 'passkey_removed';

/**
 * A signed-in user's passkeys: registration (user verification required, `none` attestation accepted), list and
 * removal (which signs the user out everywhere). The caller's id comes from its verified token, never from the
 * payload.
 */
@Injectable()
export class PasskeyRegistrationService {
  private readonly origins: string[];

  constructor(
    private readonly repository: WebauthnRepository,
    private readonly challenges: CeremonyChallenges,
    @Inject(SERVICE_CONFIG) private readonly config: IdentityConfig,
    @Inject(AUDIT_EMITTER) private readonly audit: AuditEmitter,
    @Inject(USER_DIRECTORY) private readonly users: UserDirectory,
    @Inject(SIGN_OUT) private readonly signOut: SignOut,
  ) {
    this.origins = expectedOrigins(config.webauthnOrigins);
  }

  /** Options for a new passkey of `userId`, excluding the passkeys it already has. */
  async options(userId: string): Promise<PasskeyRegisterOptionsReply> {
    const user = await this.activeCaller(userId);
    const existing = await this.repository.listByUser(user.id);
    const publicKey = await generateRegistrationOptions({
      rpName: this.config.webauthnRpName,
      rpID: this.config.webauthnRpId,
      userName: user.username,
      userDisplayName: user.username,
      userID: new Uint8Array(Buffer.from(userHandleOf(user.id), 'base64url')),
      timeout: this.challenges.ttlMs,
      attestationType: 'none',
      excludeCredentials: existing.map((passkey) => ({
        id: passkey.credentialId,
        transports: passkey.transports,
      })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
      supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
    });
    const ceremonyId = await this.challenges.issue('registration', publicKey.challenge, user.id, true);

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
    const fail = async (reason: FailureReason | 'already_registered') => {
      await this.emit({ action: 'webauthn.register', outcome: 'failure', actor, details: { reason } });

      return reason === 'already_registered'
        ? new VivifiedError(ErrorCode.Conflict, 'passkey already registered', { reason })
        : new VivifiedError(ErrorCode.BadRequest, 'passkey registration failed', { reason });
    };
    const consumed = await this.challenges.consume(ceremonyId, 'registration', user.id);
    if (!consumed.ok) {
      throw await fail(consumed.reason);
    }
    let info;
    try {
      const result = await verifyRegistrationResponse({
        response: credential,
        expectedChallenge: consumed.challenge.challenge,
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
        this.challenges.now(),
      );
    } catch (error) {
      if (error instanceof DuplicatePasskeyError) {
        throw await fail('already_registered');
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

  /** The caller's passkeys, oldest first. */
  async list(userId: string): Promise<PasskeyList> {
    const passkeys = await this.repository.listByUser(userId);

    return { credentials: passkeys.map(toSummary) };
  }

  /**
   * Removes one of the caller's passkeys; another user's passkey is "not found". The user is signed out everywhere
   * around the removal: a session opened with the passkey must not outlive it.
   */
  async remove(userId: string, id: string): Promise<PasskeyRemoveReply> {
    const about = {
      action: 'webauthn.remove',
      actor: { kind: 'user', id: `user:${userId}` },
      target: `user:${userId}`,
    } as const;
    const notFound = async () => {
      await this.emit({ ...about, outcome: 'failure', details: { passkeyId: id, reason: 'not_found' } });

      return new VivifiedError(ErrorCode.NotFound, 'passkey not found');
    };
    // looked up first: a passkey that is not the caller's ends none of its sessions
    if (!(await this.repository.listByUser(userId)).some((passkey) => passkey.id === id)) {
      throw await notFound();
    }
    const { result: removed, sessionsEnded } = await this.signOut.around(userId, PASSKEY_REMOVED, () =>
      this.repository.deletePasskey(userId, id),
    );
    if (!removed) {
      // a concurrent removal of the same passkey won (and signed the user out too)
      throw await notFound();
    }
    await this.emit({
      ...about,
      outcome: 'success',
      details: { passkeyId: id, reason: PASSKEY_REMOVED, sessionsEnded },
    });

    return { id, sessionsEnded };
  }

  private async activeCaller(userId: string): Promise<UserSnapshot> {
    const user = await this.users.findActive(userId);
    if (!user) {
      throw new VivifiedError(ErrorCode.Unauthenticated, 'the caller is not an active user');
    }

    return user;
  }

  private async emit(input: Omit<AuditInput, 'category'>): Promise<void> {
    await this.audit.emit({ category: 'auth', ...input });
  }
}
