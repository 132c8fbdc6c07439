import { availableParallelism } from 'node:os';

import { Injectable } from '@nestjs/common';
import type { OnModuleInit } from '@nestjs/common';
import { hash, parseOptions, verify } from '@node-rs/argon2';
import type { Options } from '@node-rs/argon2';
import { ErrorCode, VivifiedError } from '@vivified/contracts';
import { randomToken } from '@vivified/crypto';

/**
 * argon2id cost, measured on the reference machine (docs/identity.md "Password hashing"): 64 MiB, 2 passes,
 * one lane ≈ 55 ms per hash on one core, above OWASP's 19 MiB floor and inside the 50–100 ms target.
 */
export const argon2Parameters = {
  /** argon2id (`Algorithm.Argon2id`; the package's const enum cannot be read under isolatedModules). */
  algorithm: 2,
  /** KiB. */
  memoryCost: 65_536,
  timeCost: 2,
  parallelism: 1,
  outputLen: 32,
} as const;

/** Hashes beyond this many waiting are refused rather than queued: memory and latency stay bounded. */
const MAX_WAITING = 512;

/** A counting semaphore: at most `limit` holders at once, the rest wait in arrival order. */
class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) {
      if (this.waiting.length >= MAX_WAITING) {
        throw new VivifiedError(ErrorCode.Unavailable, 'too many logins in progress, retry shortly', {
          reason: 'busy',
        });
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) {
        next();
      } else {
        this.active--;
      }
    }
  }
}

/**
 * argon2id hashing and verification with a bounded number running at once (one per core: each holds 64 MiB and
 * a thread). Verification of an unknown user runs against a dummy hash of the same cost, so both take as long.
 */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  private readonly gate = new Semaphore(Math.max(1, availableParallelism()));
  private readonly options: Options = argon2Parameters;
  private dummyHash: string | undefined;

  async onModuleInit(): Promise<void> {
    await this.dummy();
  }

  /** PHC string of a new hash with a random salt. */
  hash(password: string): Promise<string> {
    return this.gate.run(() => hash(password, this.options));
  }

  /** Whether `password` matches `encoded`; a malformed hash is a mismatch, never an exception. */
  verify(encoded: string, password: string): Promise<boolean> {
    return this.gate.run(() => verify(encoded, password).catch(() => false));
  }

  /** Spends the time of one verification and answers false (an unknown or inactive user). */
  async verifyDummy(password: string): Promise<false> {
    await this.verify(await this.dummy(), password);

    return false;
  }

  /** Whether a stored hash was made with other parameters and should be replaced after a successful login. */
  needsRehash(encoded: string): boolean {
    try {
      const current = parseOptions(encoded);

      return (
        current.algorithm !== this.options.algorithm ||
        current.memoryCost !== this.options.memoryCost ||
        current.timeCost !== this.options.timeCost ||
        current.parallelism !== this.options.parallelism
      );
    } catch {
      return true;
    }
  }

  private async dummy(): Promise<string> {
    this.dummyHash ??= await this.hash(randomToken(24));

    return this.dummyHash;
  }
}
