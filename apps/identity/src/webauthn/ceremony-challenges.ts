import { randomUUID } from 'node:crypto';

import { Inject, Injectable, Optional } from '@nestjs/common';

import type { FailureReason } from './passkey-values';
import type { WebauthnOptions } from './webauthn.options';
import { defaultWebauthnOptions, WEBAUTHN_OPTIONS } from './webauthn.options';
import type { CeremonyKind, StoredChallenge } from './webauthn.repository';
import { WebauthnRepository } from './webauthn.repository';

/** A consumed challenge, or why it cannot be used. */
export type ConsumedChallenge =
  | { ok: true; challenge: StoredChallenge }
  | { ok: false; reason: FailureReason; userId?: string };

/** Ceremony challenges in PostgreSQL: issued with a lifetime, consumed by the first attempt whatever its outcome. */
@Injectable()
export class CeremonyChallenges {
  private readonly options: WebauthnOptions;

  constructor(
    private readonly repository: WebauthnRepository,
    @Optional() @Inject(WEBAUTHN_OPTIONS) options?: WebauthnOptions,
  ) {
    this.options = options ?? defaultWebauthnOptions;
  }

  /** The lifetime of a challenge, which is also the browser's ceremony timeout. */
  get ttlMs(): number {
    return this.options.challengeTtlMs;
  }

  /** The current time of the ceremonies. */
  now(): Date {
    return this.options.now();
  }

  /**
   * Stores the challenge of new options and answers its ceremony id. `userBound`: only `userId`'s passkeys may
   * answer it (registration, login with a username; `userId` is absent for an unknown username).
   */
  async issue(
    kind: CeremonyKind,
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

  /** Takes a ceremony's challenge out of the store; with `userId`, it must have been issued to that user. */
  async consume(id: string, kind: CeremonyKind, userId?: string): Promise<ConsumedChallenge> {
    const challenge = await this.repository.consumeChallenge(id, kind);
    if (!challenge) {
      return { ok: false, reason: 'ceremony_unknown' };
    }
    if (challenge.expiresAt.getTime() <= this.options.now().getTime()) {
      return { ok: false, reason: 'ceremony_expired', userId: challenge.userId };
    }
    if (userId !== undefined && challenge.userId !== userId) {
      return { ok: false, reason: 'ceremony_user_mismatch', userId: challenge.userId };
    }

    return { ok: true, challenge };
  }
}
