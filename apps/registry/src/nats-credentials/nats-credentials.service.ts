import type { Account, KeyPair } from '@nats-io/jwt';
import { decode, encodeAccount, encodeUser, fmtCreds, fromSeed } from '@nats-io/jwt';
import type { OnModuleInit } from '@nestjs/common';
import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  dynamicSubjects,
  ErrorCode,
  SubjectTokenError,
  subjectToken,
  VivifiedError,
} from '@vivified/contracts';
import type { ServiceLogger } from '@vivified/service-kit';
import { SERVICE_LOGGER } from '@vivified/service-kit';

import type { AccountClaimsStore } from './account-claims.client';
import { pluginNatsPermissions } from './plugin-permissions';
import { pluginUserKey } from './plugin-user-key';

/** Injection token of the {@link NatsCredentialsOptions}. */
export const NATS_CREDENTIALS_OPTIONS = 'vivified.registry.nats-credentials.options';
/** Injection token of the {@link AccountClaimsStore} (absent: revocation waits for the JWT to expire). */
export const ACCOUNT_CLAIMS_STORE = 'vivified.registry.nats-credentials.account-claims';

/** What the service needs from the registry's config. */
export interface NatsCredentialsOptions {
  /** Seed of the account signing key; absent: development mode, no NATS credentials are issued. */
  accountSigningSeed?: string;
  /** Public key of the account the plugin users belong to. */
  accountPublicKey?: string;
  /** Seed of an operator signing key, to re-sign the account JWT with revocations. */
  operatorSigningSeed?: string;
  /** Lifetime of a user JWT. */
  userJwtTtlSeconds: number;
  /** The clock, in milliseconds (tests). */
  now?: () => number;
}

/** NATS user credentials of a plugin, answered once. */
export interface IssuedNatsUser {
  /** The `.creds` file text: the user JWT and the user's nkey seed. A secret: never log or store it. */
  creds: string;
  /** When the user JWT expires (ISO 8601); the plugin must have new credentials before then. */
  expiresAt: string;
  /** Public key of the plugin's NATS user (stable per plugin). */
  userPublicKey: string;
  /** The inbox prefix the plugin must connect with (nats.js `inboxPrefix`); replies elsewhere never reach it. */
  inboxPrefix: string;
}

/**
 * How a revocation takes effect: `pushed` — the servers refuse the user and close its connections at once;
 * `expiry` — no operator key or system connection is configured, the user works until its JWT expires;
 * `none` — development mode, no NATS users exist.
 */
export type NatsRevocation = 'pushed' | 'expiry' | 'none';

/** Whether plugin NATS users are issued (production) or plugins share the open development server. */
export type NatsCredentialsMode = 'production' | 'development';

/** Revocations older than this beyond the JWT lifetime revoke nothing still valid and are dropped. */
const PRUNE_SLACK_SECONDS = 300;
/** Attempts of a revocation when another writer replaced the account JWT between our lookup and update. */
const REVOKE_ATTEMPTS = 3;

const seconds = (ms: number): number => Math.floor(ms / 1000);

function keyPair(seed: string): KeyPair {
  return fromSeed(new TextEncoder().encode(seed));
}

/**
 * NATS user credentials of plugins (decentralized JWT auth, docs/nats-auth.md). A user JWT is signed with the
 * account signing key, carries exactly the permissions of ARCHITECTURE §3 and lives `userJwtTtlSeconds`; the
 * registry issues a new one only while the plugin is active. Revocation adds the plugin's user key to the
 * account JWT's `revocations`, re-signs it with the operator signing key and pushes it with
 * `$SYS.REQ.CLAIMS.UPDATE`: the servers close the user's connections and refuse new ones at once.
 */
@Injectable()
export class NatsCredentialsService implements OnModuleInit {
  private readonly accountSigner?: KeyPair;
  private readonly operatorSigner?: KeyPair;
  private readonly now: () => number;
  /** Revocations of this process run one after the other: each one reads, changes and writes the account JWT. */
  private revocations: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(NATS_CREDENTIALS_OPTIONS) private readonly options: NatsCredentialsOptions,
    @Optional() @Inject(ACCOUNT_CLAIMS_STORE) private readonly claims: AccountClaimsStore | undefined,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
  ) {
    this.now = options.now ?? Date.now;
    if (options.accountSigningSeed) {
      if (!options.accountPublicKey) {
        throw new Error(
          'VIVIFIED_NATS_ACCOUNT_PUBLIC_KEY is required with VIVIFIED_NATS_ACCOUNT_SIGNING_SEED',
        );
      }
      this.accountSigner = keyPair(options.accountSigningSeed);
      if (!this.accountSigner.getPublicKey().startsWith('A')) {
        throw new Error('VIVIFIED_NATS_ACCOUNT_SIGNING_SEED is not an account key seed');
      }
      if (options.operatorSigningSeed) {
        this.operatorSigner = keyPair(options.operatorSigningSeed);
        if (!this.operatorSigner.getPublicKey().startsWith('O')) {
          throw new Error('VIVIFIED_NATS_OPERATOR_SIGNING_SEED is not an operator key seed');
        }
      }
    }
  }

  onModuleInit(): void {
    this.logger.info(
      { mode: this.mode, revocation: this.revocation, userJwtTtlSeconds: this.options.userJwtTtlSeconds },
      this.mode === 'production'
        ? 'plugin NATS users are issued (production mode)'
        : 'no plugin NATS users are issued (development mode: VIVIFIED_NATS_ACCOUNT_SIGNING_SEED is unset)',
    );
  }

  /** `production` when the account signing key is configured, else `development` (no users are issued). */
  get mode(): NatsCredentialsMode {
    return this.accountSigner ? 'production' : 'development';
  }

  /** How {@link revokeUser} takes effect with this configuration. */
  get revocation(): NatsRevocation {
    if (!this.accountSigner) {
      return 'none';
    }

    return this.operatorSigner && this.claims ? 'pushed' : 'expiry';
  }

  /**
   * A new user JWT for an active plugin, with its nkey seed as a `.creds` text; `null` in development mode. Call
   * it on approval and on every renewal while the plugin stays active, never for a disabled one.
   */
  async issueUser(pluginId: string): Promise<IssuedNatsUser | null> {
    const signer = this.accountSigner;
    const accountPublicKey = this.options.accountPublicKey;
    if (!signer || !accountPublicKey) {
      return null;
    }
    const id = checkedPluginId(pluginId);
    const user = pluginUserKey(this.options.accountSigningSeed as string, id);
    const userPublicKey = user.getPublicKey();
    // a JWT issued in the second of a revocation would be revoked too (`iat <= revoked at`)
    await this.waitPastRevocation(userPublicKey);
    const expiresAt = seconds(this.now()) + this.options.userJwtTtlSeconds;
    const jwt = await encodeUser(
      id,
      user,
      accountPublicKey,
      { ...pluginNatsPermissions(id), tags: ['vivified-plugin'] },
      { signer, exp: expiresAt },
    );
    this.logger.info({ pluginId: id, userPublicKey, expiresAt }, 'plugin NATS user issued');

    return {
      creds: new TextDecoder().decode(fmtCreds(jwt, user)),
      expiresAt: new Date(expiresAt * 1000).toISOString(),
      userPublicKey,
      inboxPrefix: dynamicSubjects.pluginInboxPrefix(id),
    };
  }

  /**
   * Revokes every user JWT issued to the plugin so far: pushed to the servers when an operator signing key and
   * the system connection are configured (connections closed at once), else it takes effect when the last JWT
   * expires. A JWT issued later (after re-enabling) is valid again.
   */
  async revokeUser(pluginId: string): Promise<NatsRevocation> {
    const mode = this.revocation;
    if (mode !== 'pushed') {
      if (mode === 'expiry') {
        this.logger.warn(
          { pluginId, ttlSeconds: this.options.userJwtTtlSeconds },
          'plugin NATS user not revoked on the servers (no operator signing key or system creds): it works until its JWT expires',
        );
      }

      return mode;
    }
    const id = checkedPluginId(pluginId);
    const userPublicKey = pluginUserKey(this.options.accountSigningSeed as string, id).getPublicKey();
    const run = this.revocations.then(() => this.pushRevocation(userPublicKey));
    this.revocations = run.catch(() => undefined);
    await run;
    this.logger.info({ pluginId: id, userPublicKey }, 'plugin NATS user revoked on the servers');

    return 'pushed';
  }

  private async pushRevocation(userPublicKey: string): Promise<void> {
    const claims = this.claims as AccountClaimsStore;
    const accountPublicKey = this.options.accountPublicKey as string;
    for (let attempt = 1; ; attempt++) {
      const current = decode<Account>(await claims.lookup(accountPublicKey));
      if (current.sub !== accountPublicKey) {
        throw new VivifiedError(ErrorCode.Internal, 'the NATS servers answered another account', {
          reason: 'nats_account_mismatch',
        });
      }
      const revokedAt = seconds(this.now());
      const { type: _type, version: _version, ...account } = current.nats;
      const revocations = this.pruned(account.revocations ?? {}, revokedAt);
      revocations[userPublicKey] = revokedAt;
      const updated = await encodeAccount(
        current.name,
        accountPublicKey,
        { ...account, revocations },
        { signer: this.operatorSigner, ...(current.exp === undefined ? {} : { exp: current.exp }) },
      );
      await claims.update(updated);
      // another registry may have pushed its own update between our lookup and update: check ours stayed
      const stored = decode<Account>(await claims.lookup(accountPublicKey)).nats.revocations ?? {};
      if ((stored[userPublicKey] ?? -1) >= revokedAt) {
        return;
      }
      if (attempt >= REVOKE_ATTEMPTS) {
        throw new VivifiedError(ErrorCode.Unavailable, 'the NATS revocation did not persist', {
          reason: 'nats_revocation_lost',
        });
      }
    }
  }

  /** Drops user revocations whose JWTs have all expired; keeps anything else (`*`, account-wide entries). */
  private pruned(revocations: Record<string, number>, now: number): Record<string, number> {
    const horizon = now - this.options.userJwtTtlSeconds - PRUNE_SLACK_SECONDS;

    return Object.fromEntries(
      Object.entries(revocations).filter(([key, at]) => !key.startsWith('U') || at >= horizon),
    );
  }

  private async waitPastRevocation(userPublicKey: string): Promise<void> {
    if (this.revocation !== 'pushed') {
      return;
    }
    await this.revocations;
    let revokedAt: number | undefined;
    try {
      const account = decode<Account>(
        await (this.claims as AccountClaimsStore).lookup(this.options.accountPublicKey as string),
      );
      revokedAt = account.nats.revocations?.[userPublicKey];
    } catch (error) {
      // issuing does not depend on the system connection; at worst a JWT of the revocation's second is refused
      this.logger.warn({ err: error }, 'account JWT lookup failed; issuing without the revocation check');

      return;
    }
    if (revokedAt === undefined) {
      return;
    }
    const waitMs = (revokedAt + 1) * 1000 - this.now();
    if (waitMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, waitMs + 5));
    }
  }
}

function checkedPluginId(pluginId: string): string {
  try {
    return subjectToken('plugin id', pluginId);
  } catch (error) {
    if (error instanceof SubjectTokenError) {
      throw new VivifiedError(ErrorCode.ValidationFailed, 'invalid plugin id', {
        reason: 'invalid_plugin_id',
      });
    }
    throw error;
  }
}
