import { randomUUID } from 'node:crypto';

import type { JwksEntry, PluginStatusEntry, PrincipalKind } from '@vivified/contracts';
import { buckets, tokenContract } from '@vivified/contracts';
import type { CryptoKey } from 'jose';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { KV, NatsConnection } from 'nats';

/** Who a test token speaks for. */
export interface TestPrincipal {
  kind: PrincipalKind;
  /** A UUID for users, the plugin id, or the service name. */
  id: string;
  traits: readonly string[];
  roles?: readonly string[];
  /** Lifetime in seconds. @default 900 */
  lifetimeSeconds?: number;
  /** `iat`, in epoch seconds. @default now */
  issuedAt?: number;
}

/**
 * Stands in for identity and the registry in a test that runs other services alone: it publishes a signing key
 * to the `vivified_jwks` bucket (as identity does), signs tokens every service's sidecar accepts, and writes plugin
 * entries to the `vivified_plugins` bucket (as the registry does). Real keys, real KV, real signatures.
 */
export class TestAuthority {
  private constructor(
    private readonly kid: string,
    private readonly privateKey: CryptoKey,
    private readonly plugins: KV,
  ) {}

  /** Creates the buckets when missing and publishes a fresh Ed25519 key. */
  static async create(nc: NatsConnection): Promise<TestAuthority> {
    const js = nc.jetstream();
    const jwks = await js.views.kv(buckets.jwks.name, { history: buckets.jwks.history });
    const plugins = await js.views.kv(buckets.plugins.name, { history: buckets.plugins.history });
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const jwk = await exportJWK(publicKey);
    const kid = `test-${randomUUID()}`;
    const entry: JwksEntry = {
      kty: 'OKP',
      crv: 'Ed25519',
      x: jwk.x as string,
      kid,
      alg: 'EdDSA',
      use: 'sig',
      createdAt: new Date().toISOString(),
    };
    await jwks.put(kid, JSON.stringify(entry));

    return new TestAuthority(kid, privateKey, plugins);
  }

  /** A token with the claims of `TokenClaims` for the principal. */
  async token(principal: TestPrincipal): Promise<string> {
    const now = principal.issuedAt ?? Math.floor(Date.now() / 1000);

    return new SignJWT({
      typ: principal.kind,
      traits: [...principal.traits],
      ...(principal.roles ? { roles: [...principal.roles] } : {}),
    })
      .setProtectedHeader({ alg: tokenContract.algorithm, kid: this.kid, typ: 'JWT' })
      .setIssuer(tokenContract.issuer)
      .setAudience(tokenContract.audience)
      .setSubject(`${principal.kind}:${principal.id}`)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + (principal.lifetimeSeconds ?? 900))
      .sign(this.privateKey);
  }

  /** Writes (or replaces) a plugin's registry entry; `active` unless the entry says otherwise. */
  async putPlugin(
    entry: Partial<PluginStatusEntry> & Pick<PluginStatusEntry, 'id' | 'traits'>,
  ): Promise<void> {
    const full: PluginStatusEntry = {
      status: 'active',
      version: '1.0.0',
      manifestDigest: '0'.repeat(64),
      updatedAt: new Date().toISOString(),
      ...entry,
    };
    await this.plugins.put(entry.id, JSON.stringify(full));
  }
}
