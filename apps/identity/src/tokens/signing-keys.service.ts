import type { OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Inject, Injectable, Optional } from '@nestjs/common';
import type { JwksEntry, RotateKeyReply } from '@vivified/contracts';
import { tokenContract } from '@vivified/contracts';
import { EnvelopeCipher } from '@vivified/crypto';
import type { Principal } from '@vivified/nats-transport';
import type { AuditEmitter, ServiceLogger } from '@vivified/service-kit';
import { AUDIT_EMITTER, SERVICE_LOGGER } from '@vivified/service-kit';
import type { CryptoKey } from 'jose';
import {
  calculateJwkThumbprint,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importJWK,
  importPKCS8,
} from 'jose';

import type { Clock } from './clock';
import { CLOCK, systemClock } from './clock';
import { JwksBucketClient } from './jwks-bucket.client';
import type { NewSigningKey, PublicJwk, SigningKeyRow } from './signing-keys.repository';
import { SigningKeysRepository } from './signing-keys.repository';

/** The key tokens are signed with now. */
export interface ActiveSigningKey {
  kid: string;
  privateKey: CryptoKey;
}

const LONGEST_LIFETIME_MS =
  Math.max(
    tokenContract.lifetimes.userAccess,
    tokenContract.lifetimes.plugin,
    tokenContract.lifetimes.service,
  ) * 1000;
/** Margin for clock skew between replicas and for replicas still signing with a key they cached. */
const RETIRE_SKEW_MS = 5 * 60 * 1000;
/** How long a replica signs with the key it knows before it checks whether another replica rotated. */
const CURRENT_KEY_TTL_MS = 30 * 1000;
/** How often retired keys are removed from the bucket and the published set is refreshed. */
const MAINTENANCE_INTERVAL_MS = 60 * 1000;

const aadOf = (kid: string) => `identity.signing-key:${kid}`;

/**
 * Ed25519 signing keys (ADR-0005): one current key signs; after a rotation the previous key verifies until
 * every token it signed has expired, then leaves the `vivified_jwks` bucket. Private keys are sealed at rest.
 */
@Injectable()
export class SigningKeysService implements OnModuleInit, OnModuleDestroy {
  private readonly clock: Clock;
  private active: { key: ActiveSigningKey; checkedAt: number } | undefined;
  private readonly publicKeys = new Map<string, Promise<CryptoKey>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly repository: SigningKeysRepository,
    private readonly bucket: JwksBucketClient,
    private readonly cipher: EnvelopeCipher,
    @Inject(AUDIT_EMITTER) private readonly audit: AuditEmitter,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
    @Optional() @Inject(CLOCK) clock?: Clock,
  ) {
    this.clock = clock ?? systemClock;
  }

  /** Ensures a current key and publishes the verifying keys before the service takes requests. */
  async onModuleInit(): Promise<void> {
    await this.ensureCurrent();
    await this.maintain();
    this.timer = setInterval(() => {
      this.maintain().catch((error: unknown) =>
        this.logger.warn({ err: error }, 'signing key maintenance failed'),
      );
    }, MAINTENANCE_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** The key to sign with now; re-checks the database now and then, as another replica may have rotated. */
  async signingKey(): Promise<ActiveSigningKey> {
    const now = this.clock.now().getTime();
    if (this.active && now - this.active.checkedAt < CURRENT_KEY_TTL_MS) {
      return this.active.key;
    }
    const row = (await this.repository.current()) ?? (await this.ensureCurrent());
    const key =
      this.active?.key.kid === row.kid ? this.active.key : { kid: row.kid, privateKey: await this.open(row) };
    this.active = { key, checkedAt: now };

    return key;
  }

  /** The public key of `kid` while it verifies; undefined for an unknown or retired key. */
  async verificationKey(kid: string): Promise<CryptoKey | undefined> {
    // read each time: another replica may have rotated, and enrolment tokens are rare
    const row = await this.repository.find(kid);
    if (!row || row.status === 'retired' || (row.retiresAt && row.retiresAt <= this.clock.now())) {
      return undefined;
    }
    let key = this.publicKeys.get(kid);
    if (!key) {
      key = importJWK({ ...row.publicJwk, alg: 'EdDSA' }, 'EdDSA');
      this.publicKeys.set(kid, key);
    }

    return key;
  }

  /** The keys that verify now, as served in the JWKS. */
  async jwks(): Promise<JwksEntry[]> {
    return (await this.repository.verifying(this.clock.now())).map(entryOf);
  }

  /** Makes a new key current; the previous one verifies until its longest-lived token has expired. */
  async rotate(actor: Principal): Promise<RotateKeyReply> {
    const now = this.clock.now();
    const fresh = await this.generate(now);
    const retiresAt = new Date(now.getTime() + LONGEST_LIFETIME_MS + RETIRE_SKEW_MS);
    const previous = await this.repository.locked(async (tx) => {
      const demoted = await tx.demoteCurrent(retiresAt);
      await tx.insertCurrent(fresh.row);

      return demoted;
    });
    this.active = { key: fresh.active, checkedAt: this.clock.now().getTime() };
    if (previous) {
      this.publicKeys.delete(previous.kid);
    }
    await this.maintain();
    await this.audit.emit({
      category: 'key',
      action: 'key.rotate',
      outcome: 'success',
      actor: { kind: actor.kind, id: `${actor.kind}:${actor.id}` },
      target: `signing-key:${fresh.row.kid}`,
      details: {
        kid: fresh.row.kid,
        ...(previous ? { previousKid: previous.kid, previousRetiresAt: retiresAt.toISOString() } : {}),
      },
    });

    return {
      kid: fresh.row.kid,
      ...(previous ? { previousKid: previous.kid, previousRetiresAt: retiresAt.toISOString() } : {}),
    };
  }

  /**
   * Retires keys whose time has passed, publishes every verifying key to the bucket and deletes retired ones
   * from it. Runs at start, after a rotation and every minute.
   */
  async maintain(): Promise<void> {
    const now = this.clock.now();
    const retired = await this.repository.retireDue(now);
    for (const kid of retired) {
      this.publicKeys.delete(kid);
    }
    for (const row of await this.repository.verifying(now)) {
      await this.bucket.publish(entryOf(row));
    }
    for (const kid of retired) {
      if (await this.bucket.has(kid)) {
        await this.bucket.delete(kid);
        this.logger.info({ kid }, 'retired signing key removed from the JWKS bucket');
      }
    }
  }

  private async ensureCurrent(): Promise<SigningKeyRow> {
    const existing = await this.repository.current();
    if (existing) {
      return existing;
    }
    const now = this.clock.now();
    const fresh = await this.generate(now);
    const { row, created } = await this.repository.locked(async (tx) => {
      // another replica may have created it while this one waited for the lock
      const current = await tx.current();
      if (current) {
        return { row: current, created: false };
      }
      await tx.insertCurrent(fresh.row);

      return { row: { ...fresh.row, retiresAt: null, status: 'current' as const }, created: true };
    });
    if (created) {
      await this.audit.emit({
        category: 'key',
        action: 'key.create',
        outcome: 'success',
        actor: { kind: 'service', id: 'service:identity' },
        target: `signing-key:${row.kid}`,
        details: { kid: row.kid, reason: 'no current signing key' },
      });
    }

    return row;
  }

  private async generate(now: Date): Promise<{ row: NewSigningKey; active: ActiveSigningKey }> {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const jwk = await exportJWK(publicKey);
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') {
      throw new Error('unexpected public key shape');
    }
    const publicJwk: PublicJwk = { kty: 'OKP', crv: 'Ed25519', x: jwk.x };
    const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
    const privateSealed = await this.cipher.encrypt(await exportPKCS8(privateKey), aadOf(kid));
    // the signing copy need not be extractable: it never leaves this process again
    const signing = await importPKCS8(await exportPKCS8(privateKey), 'EdDSA');

    return { row: { kid, publicJwk, privateSealed, createdAt: now }, active: { kid, privateKey: signing } };
  }

  private async open(row: SigningKeyRow): Promise<CryptoKey> {
    return importPKCS8(await this.cipher.decryptString(row.privateSealed, aadOf(row.kid)), 'EdDSA');
  }
}

function entryOf(row: SigningKeyRow): JwksEntry {
  return {
    ...row.publicJwk,
    kid: row.kid,
    alg: 'EdDSA',
    use: 'sig',
    createdAt: row.createdAt.toISOString(),
    ...(row.retiresAt ? { retiresAt: row.retiresAt.toISOString() } : {}),
  };
}
