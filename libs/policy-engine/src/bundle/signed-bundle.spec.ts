import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { PolicyBundleError } from './compiled-bundle';
import type { PolicyBundle } from './policy-bundle';
import {
  bundleKeyId,
  bundleSigningKeys,
  canonicalBundleJson,
  signBundle,
  signedBundleFormat,
  verifySignedBundle,
} from './signed-bundle';

const SEED = Buffer.alloc(32, 7);
const bundle: PolicyBundle = {
  version: 3,
  createdAt: '2026-03-01T10:00:00.000Z',
  rules: [
    { type: 'operator', caller: 'a', target: 'b', operations: ['get_user'] },
    { type: 'proxy', plugin: 'a', domains: ['api.example.org'] },
  ],
};

/** What a reader of the KV bucket sees: the JSON text parsed back. */
const roundTrip = <T>(value: T): Record<string, unknown> =>
  JSON.parse(JSON.stringify(value)) as Record<string, unknown>;

function expectRefused(input: unknown, path: string, keys = bundleSigningKeys(SEED)): void {
  let error: unknown;
  try {
    verifySignedBundle(input, keys.publicKey);
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(PolicyBundleError);
  expect((error as PolicyBundleError).problems.map((problem) => problem.path)).toContain(path);
}

describe(bundleSigningKeys.name, () => {
  it('derives the same Ed25519 pair and key id from the same seed', () => {
    const a = bundleSigningKeys(SEED);
    const b = bundleSigningKeys(Uint8Array.from(SEED));
    expect(a.publicKey.asymmetricKeyType).toBe('ed25519');
    expect(a.publicKey.equals(b.publicKey)).toBe(true);
    expect(a.keyId).toBe(b.keyId);
    expect(a.keyId).toMatch(/^pb1-[A-Za-z0-9_-]{22}$/);
    expect(a.keyId).toBe(bundleKeyId(a.publicKey));
  });

  it('derives another pair from another seed', () => {
    const other = bundleSigningKeys(Buffer.alloc(32, 8));
    expect(other.publicKey.equals(bundleSigningKeys(SEED).publicKey)).toBe(false);
    expect(other.keyId).not.toBe(bundleSigningKeys(SEED).keyId);
  });

  it('matches the RFC 8032 test vector 1 public key', () => {
    const seed = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
    const jwk = bundleSigningKeys(seed).publicKey.export({ format: 'jwk' });
    expect(Buffer.from(String(jwk.x), 'base64url').toString('hex')).toBe(
      'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    );
  });

  it('refuses a seed that is not 32 bytes', () => {
    expect(() => bundleSigningKeys(Buffer.alloc(31))).toThrow(TypeError);
    expect(() => bundleSigningKeys(Buffer.alloc(33))).toThrow(TypeError);
  });
});

describe(signBundle.name, () => {
  it('signs the canonical JSON, whatever the key order', () => {
    const keys = bundleSigningKeys(SEED);
    const signed = signBundle(bundle, keys);
    expect(signed.format).toBe(signedBundleFormat);
    expect(signed.keyId).toBe(keys.keyId);
    expect(Buffer.from(signed.signature, 'base64url')).toHaveLength(64);
    const reordered = { rules: bundle.rules, createdAt: bundle.createdAt, version: bundle.version };
    expect(signBundle(reordered, keys).signature).toBe(signed.signature);
    expect(canonicalBundleJson(reordered)).toBe(canonicalBundleJson(bundle));
  });

  it('refuses to sign a bundle that does not validate', () => {
    const keys = bundleSigningKeys(SEED);
    const invalid = {
      ...bundle,
      rules: [{ type: 'proxy', plugin: 'A', domains: [] }],
    } as unknown as PolicyBundle;
    expect(() => signBundle(invalid, keys)).toThrow(PolicyBundleError);
  });
});

describe(verifySignedBundle.name, () => {
  const keys = bundleSigningKeys(SEED);

  it('answers the bundle of a genuine signed bundle read back from JSON', () => {
    expect(verifySignedBundle(roundTrip(signBundle(bundle, keys)), keys.publicKey)).toEqual(bundle);
  });

  it('refuses a changed rule, version or timestamp (tamper)', () => {
    const signed = roundTrip(signBundle(bundle, keys));
    const tampered = [
      { ...bundle, version: 4 },
      { ...bundle, createdAt: '2026-03-01T10:00:01.000Z' },
      { ...bundle, rules: [...bundle.rules, { type: 'proxy', plugin: 'evil', domains: ['evil.example'] }] },
      { ...bundle, rules: [{ type: 'operator', caller: 'a', target: 'b', operations: ['delete_user'] }] },
    ];
    for (const changed of tampered) {
      expectRefused({ ...signed, bundle: changed }, 'signature');
    }
  });

  it('refuses a bundle signed with another key under the right key id (forgery)', () => {
    const forger = generateKeyPairSync('ed25519');
    const signature = sign(null, Buffer.from(canonicalBundleJson(bundle)), forger.privateKey);
    expectRefused(
      { format: signedBundleFormat, bundle, keyId: keys.keyId, signature: signature.toString('base64url') },
      'signature',
    );
  });

  it('refuses a bundle signed with another seed (another key id)', () => {
    const other = bundleSigningKeys(randomBytes(32));
    expectRefused(roundTrip(signBundle(bundle, other)), 'keyId');
  });

  it('refuses a wrong format, a missing or malformed signature, and non-objects', () => {
    const signed = roundTrip(signBundle(bundle, keys));
    expectRefused({ ...signed, format: 'vivified.policy-bundle/v0' }, 'format');
    expectRefused({ ...signed, signature: undefined }, 'signature');
    expectRefused({ ...signed, signature: 'not base64url!' }, 'signature');
    expectRefused({ ...signed, signature: String(signed.signature).slice(0, -4) }, 'signature');
    expectRefused({ ...signed, bundle: null }, 'bundle');
    expectRefused(null, '');
    expectRefused([signed], '');
    expectRefused('{"format":"vivified.policy-bundle/v1"}', '');
  });

  it('refuses a signature with altered padding bits of its last character', () => {
    const signed = roundTrip(signBundle(bundle, keys));
    const text = String(signed.signature);
    // 64 bytes encode to 86 characters; the last carries 4 unused bits that a lax decoder ignores.
    const last = text.at(-1) ?? 'A';
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1] ?? 'A';
    expectRefused({ ...signed, signature: text.slice(0, -1) + sibling }, 'signature');
  });

  it('refuses a genuinely signed bundle that does not validate', () => {
    const invalid = { version: -1, createdAt: 'yesterday', rules: [] } as unknown as PolicyBundle;
    const signature = sign(null, Buffer.from(canonicalBundleJson(invalid)), keys.privateKey);
    expectRefused(
      {
        format: signedBundleFormat,
        bundle: invalid,
        keyId: keys.keyId,
        signature: signature.toString('base64url'),
      },
      'version',
    );
  });

  it('refuses a key that is not an Ed25519 public key', () => {
    const signed = roundTrip(signBundle(bundle, keys));
    expect(() => verifySignedBundle(signed, keys.privateKey)).toThrow(TypeError);
    expect(() => verifySignedBundle(signed, generateKeyPairSync('x25519').publicKey)).toThrow(TypeError);
  });
});
