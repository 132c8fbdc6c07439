import { Inject, Injectable } from '@nestjs/common';
import { EnvelopeCipher } from '@vivified/crypto';
import type { KeyedHasher } from '@vivified/crypto';

import type { AccountsClock } from '../accounts.clock';
import { ACCOUNTS_CLOCK } from '../accounts.clock';
import { BACKUP_CODE_HASHER, totpAad } from '../accounts.crypto';
import { backupCodeHashInput, generateBackupCodes, normalizeBackupCode } from './backup-codes';
import { MfaRepository } from './mfa.repository';
import { matchTotpStep } from './totp';

/** Checks second factors: TOTP codes (each step once) and backup codes (each code once). */
@Injectable()
export class SecondFactorService {
  constructor(
    private readonly repository: MfaRepository,
    private readonly cipher: EnvelopeCipher,
    @Inject(BACKUP_CODE_HASHER) private readonly hasher: KeyedHasher,
    @Inject(ACCOUNTS_CLOCK) private readonly clock: AccountsClock,
  ) {}

  /** Whether `code` is a current, not yet used code of the user's enabled TOTP secret; using it burns its step. */
  async acceptTotp(userId: string, code: string): Promise<boolean> {
    const totp = await this.repository.totp(userId);
    if (!totp?.secretSealed) {
      return false;
    }
    const secret = await this.cipher.decryptString(totp.secretSealed, totpAad(userId));
    const step = matchTotpStep(secret, code, this.clock.now(), totp.lastStep);

    return step !== undefined && this.repository.acceptStep(userId, step);
  }

  /** Whether `code` is an unused backup code of the user; using it burns it. */
  async consumeBackupCode(userId: string, code: string): Promise<boolean> {
    const normalized = normalizeBackupCode(code);
    if (!normalized) {
      return false;
    }

    return this.repository.consumeBackupCode(
      userId,
      this.hasher.hash(backupCodeHashInput(userId, normalized)),
      new Date(this.clock.now()),
    );
  }

  /** Seals a TOTP secret for storage, bound to its user. */
  seal(userId: string, secret: string): Promise<string> {
    return this.cipher.encrypt(secret, totpAad(userId));
  }

  /** The time step of `code` under the sealed pending secret, when it is a current code after `lastStep`. */
  async matchPending(
    userId: string,
    pendingSealed: string,
    code: string,
    lastStep: number | null,
  ): Promise<number | undefined> {
    const secret = await this.cipher.decryptString(pendingSealed, totpAad(userId));

    return matchTotpStep(secret, code, this.clock.now(), lastStep);
  }

  /** Ten new codes for a user and the digests to store. */
  newBackupCodes(userId: string): { codes: string[]; hashes: string[] } {
    const codes = generateBackupCodes();
    const hashes = codes.map((code) =>
      this.hasher.hash(backupCodeHashInput(userId, normalizeBackupCode(code) ?? code)),
    );

    return { codes, hashes };
  }
}
