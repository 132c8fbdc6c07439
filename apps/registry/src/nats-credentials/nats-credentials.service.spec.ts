import type { Account, User } from '@nats-io/jwt';
import { createAccount, createOperator, decode, encodeAccount } from '@nats-io/jwt';
import { ErrorCode, VivifiedError } from '@vivified/contracts';
import { createLogger } from '@vivified/service-kit';
import { beforeEach, describe, expect, it } from 'vitest';

import type { AccountClaimsStore } from './account-claims.client';
import type { NatsCredentialsOptions } from './nats-credentials.service';
import { NatsCredentialsService } from './nats-credentials.service';
import { pluginUserKey } from './plugin-user-key';

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const logger = createLogger({ service: 'registry', level: 'silent' });
const TTL = 3_600;

/** The servers' account JWT, in memory; `interfere` replaces it with a stale copy after each update. */
class MemoryClaims implements AccountClaimsStore {
  updates = 0;
  interfere = 0;

  constructor(public jwt: string) {}

  lookup(): Promise<string> {
    return Promise.resolve(this.jwt);
  }

  update(accountJwt: string): Promise<void> {
    this.updates++;
    if (this.interfere > 0) {
      this.interfere--;

      return Promise.resolve();
    }
    this.jwt = accountJwt;

    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe(NatsCredentialsService.name, () => {
  const operatorSigning = createOperator();
  const account = createAccount();
  const accountSigning = createAccount();
  let claims: MemoryClaims;
  let options: NatsCredentialsOptions;
  let now: number;

  beforeEach(async () => {
    now = Date.UTC(2026, 10, 27, 10, 0, 0);
    claims = new MemoryClaims(
      await encodeAccount(
        'VIVIFIED',
        account,
        {
          signing_keys: [accountSigning.getPublicKey()],
          limits: { conn: -1, disk_storage: -1 },
          revocations: {
            // every JWT this revoked has expired: dropped
            UOLD: Math.floor(now / 1000) - TTL - 301,
            // may still revoke a valid JWT: kept
            URECENT: Math.floor(now / 1000) - 60,
            // not a user key: kept
            '*': 1,
          },
        },
        { signer: operatorSigning },
      ),
    );
    options = {
      accountSigningSeed: text(accountSigning.getSeed()),
      accountPublicKey: account.getPublicKey(),
      operatorSigningSeed: text(operatorSigning.getSeed()),
      userJwtTtlSeconds: TTL,
      now: () => now,
    };
  });

  it('issues a user JWT of the account, signed by its signing key, expiring after the TTL', async () => {
    const sut = new NatsCredentialsService(options, claims, logger);

    const issued = await sut.issueUser('acme-crm');

    expect(issued).not.toBeNull();
    const jwt = /-----BEGIN NATS USER JWT-----\n(.+)\n/.exec(issued?.creds ?? '')?.[1] ?? '';
    const claim = decode<User>(jwt);
    expect(claim.iss).toBe(accountSigning.getPublicKey());
    expect(claim.nats.issuer_account).toBe(account.getPublicKey());
    expect(claim.sub).toBe(pluginUserKey(options.accountSigningSeed as string, 'acme-crm').getPublicKey());
    expect(claim.exp).toBe(Math.floor(now / 1000) + TTL);
    expect(issued?.expiresAt).toBe(new Date((Math.floor(now / 1000) + TTL) * 1000).toISOString());
    expect(issued?.creds).toContain('-----BEGIN USER NKEY SEED-----\nSU');
  });

  it('revokes by re-signing the account JWT with the operator key, keeping everything else', async () => {
    const sut = new NatsCredentialsService(options, claims, logger);
    const user = pluginUserKey(options.accountSigningSeed as string, 'acme-crm').getPublicKey();

    expect(await sut.revokeUser('acme-crm')).toBe('pushed');

    const updated = decode<Account>(claims.jwt);
    expect(updated.iss).toBe(operatorSigning.getPublicKey());
    expect(updated.sub).toBe(account.getPublicKey());
    expect(updated.name).toBe('VIVIFIED');
    expect(updated.nats.signing_keys).toEqual([accountSigning.getPublicKey()]);
    expect(updated.nats.limits).toEqual({ conn: -1, disk_storage: -1 });
    expect(updated.nats.revocations).toEqual({
      URECENT: Math.floor(now / 1000) - 60,
      '*': 1,
      [user]: Math.floor(now / 1000),
    });
  });

  it('pushes again when another writer replaced the account JWT between lookup and update', async () => {
    const sut = new NatsCredentialsService(options, claims, logger);
    claims.interfere = 1;

    expect(await sut.revokeUser('acme-crm')).toBe('pushed');

    expect(claims.updates).toBe(2);
  });

  it('fails the revocation when it never persists', async () => {
    const sut = new NatsCredentialsService(options, claims, logger);
    claims.interfere = 10;

    const error = await sut.revokeUser('acme-crm').catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(VivifiedError);
    expect((error as VivifiedError).code).toBe(ErrorCode.Unavailable);
    expect(claims.updates).toBe(3);
  });

  it('refuses a plugin id that would widen its subjects', async () => {
    const sut = new NatsCredentialsService(options, claims, logger);

    const error = await sut.issueUser('acme.*').catch((caught: unknown) => caught);

    expect((error as VivifiedError).code).toBe(ErrorCode.ValidationFailed);
    expect(claims.updates).toBe(0);
  });

  it('revokes only by expiry without an operator signing key or a system connection', async () => {
    const withoutOperator = new NatsCredentialsService(
      { ...options, operatorSigningSeed: undefined },
      claims,
      logger,
    );
    const withoutSystem = new NatsCredentialsService(options, undefined, logger);

    expect(await withoutOperator.revokeUser('acme-crm')).toBe('expiry');
    expect(await withoutSystem.revokeUser('acme-crm')).toBe('expiry');
    expect(withoutSystem.mode).toBe('production');
    expect(claims.updates).toBe(0);
  });

  it('is in development mode without the account signing seed', async () => {
    const sut = new NatsCredentialsService({ userJwtTtlSeconds: TTL }, undefined, logger);

    expect(sut.mode).toBe('development');
    expect(sut.revocation).toBe('none');
    expect(await sut.issueUser('acme-crm')).toBeNull();
    expect(await sut.revokeUser('acme-crm')).toBe('none');
  });

  it('refuses a config with a seed of the wrong kind or without the account public key', () => {
    expect(
      () => new NatsCredentialsService({ ...options, accountPublicKey: undefined }, claims, logger),
    ).toThrow(/VIVIFIED_NATS_ACCOUNT_PUBLIC_KEY/);
    expect(
      () =>
        new NatsCredentialsService(
          { ...options, accountSigningSeed: options.operatorSigningSeed },
          claims,
          logger,
        ),
    ).toThrow(/not an account key seed/);
    expect(
      () =>
        new NatsCredentialsService(
          { ...options, operatorSigningSeed: options.accountSigningSeed },
          claims,
          logger,
        ),
    ).toThrow(/not an operator key seed/);
  });
});
