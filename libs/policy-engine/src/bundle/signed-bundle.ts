import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { canonicalJson } from '@vivified/contracts';

import { PolicyBundleError } from './compiled-bundle';
import type { PolicyBundle } from './policy-bundle';
import { validateBundle } from './policy-bundle';

/** The `format` of a {@link SignedPolicyBundle}; a new wire shape gets a new value (see ADR-0006). */
export const signedBundleFormat = 'vivified.policy-bundle/v1';

/**
 * The `purpose` every core service passes to `KekProvider.hashKey` to get the seed of
 * {@link bundleSigningKeys}: only holders of the platform KEK can sign a bundle (see ADR-0006).
 */
export const bundleSigningPurpose = 'vivified.policy.bundle-signing';

/** A policy bundle as the policy service publishes it to the `vivified_policy` KV bucket (key `bundle`). */
export interface SignedPolicyBundle {
  /** Always {@link signedBundleFormat}. */
  readonly format: typeof signedBundleFormat;
  /** The bundle; the signature covers its {@link canonicalBundleJson}. */
  readonly bundle: PolicyBundle;
  /** {@link bundleKeyId} of the signing key. */
  readonly keyId: string;
  /** Base64url (no padding) Ed25519 signature over the UTF-8 canonical JSON of `bundle`. */
  readonly signature: string;
}

/** The Ed25519 key pair that signs and verifies bundles. */
export interface BundleSigningKeys {
  /** Signs; only the policy service uses it. Never log or export it. */
  readonly privateKey: KeyObject;
  /** Verifies; every service holding the same seed derives the same key. */
  readonly publicKey: KeyObject;
  /** {@link bundleKeyId} of `publicKey`. */
  readonly keyId: string;
}

/** PKCS#8 DER header of an Ed25519 private key; the 32-byte seed follows it (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SEED_BYTES = 32;
const SIGNATURE_BYTES = 64;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Derives the bundle signing key pair from a 32-byte seed (`await kekProvider.hashKey(bundleSigningPurpose)`).
 * The same seed always gives the same keys and key id.
 */
export function bundleSigningKeys(seed: Uint8Array): BundleSigningKeys {
  if (!(seed instanceof Uint8Array) || seed.byteLength !== SEED_BYTES) {
    throw new TypeError(`bundleSigningKeys: the seed must be ${SEED_BYTES} bytes`);
  }
  const der = Buffer.concat([ED25519_PKCS8_PREFIX, seed]);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  der.fill(0);
  const publicKey = createPublicKey(privateKey);

  return { privateKey, publicKey, keyId: bundleKeyId(publicKey) };
}

/**
 * The id of a bundle verification key: `pb1-` and the first 16 bytes of SHA-256 over its SPKI DER, base64url.
 * Lets a verifier tell "signed with another key" (e.g. another platform's KEK) from "tampered".
 */
export function bundleKeyId(publicKey: KeyObject): string {
  const spki = publicKey.export({ format: 'der', type: 'spki' });

  return `pb1-${createHash('sha256').update(spki).digest().subarray(0, 16).toString('base64url')}`;
}

/**
 * Canonical JSON of a bundle: object keys sorted (code-unit order) at every level, undefined members dropped,
 * no whitespace. The signed bytes are its UTF-8 encoding.
 */
export function canonicalBundleJson(bundle: PolicyBundle): string {
  return canonicalJson(bundle);
}

/**
 * Signs a bundle. Throws {@link PolicyBundleError} when the bundle does not validate, so that no service is ever
 * handed a signed bundle it would refuse.
 */
export function signBundle(
  bundle: PolicyBundle,
  keys: Pick<BundleSigningKeys, 'privateKey' | 'keyId'>,
): SignedPolicyBundle {
  const problems = validateBundle(bundle);
  if (problems.length > 0) {
    throw new PolicyBundleError(problems);
  }
  const signature = sign(null, Buffer.from(canonicalBundleJson(bundle), 'utf8'), keys.privateKey);

  return {
    format: signedBundleFormat,
    bundle,
    keyId: keys.keyId,
    signature: signature.toString('base64url'),
  };
}

function refuse(path: string, message: string): PolicyBundleError {
  return new PolicyBundleError([{ path, message }]);
}

/**
 * Checks a signed bundle as read from KV (already JSON-parsed) and answers its bundle. Throws
 * {@link PolicyBundleError} when the format is not {@link signedBundleFormat}, the key id is not the one of
 * `publicKey`, the signature does not verify, or the bundle does not validate. A caller keeps its current
 * bundle and raises an alarm on any of these (see ADR-0006).
 */
export function verifySignedBundle(input: unknown, publicKey: KeyObject): PolicyBundle {
  if (publicKey.type !== 'public' || publicKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError('verifySignedBundle: the key must be an Ed25519 public key');
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw refuse('', 'a signed bundle is an object');
  }
  const signed = input as Record<string, unknown>;
  if (signed.format !== signedBundleFormat) {
    throw refuse('format', `must be ${signedBundleFormat}`);
  }
  if (typeof signed.keyId !== 'string' || signed.keyId !== bundleKeyId(publicKey)) {
    throw refuse('keyId', 'is not the id of the bundle verification key');
  }
  if (typeof signed.signature !== 'string' || !BASE64URL.test(signed.signature)) {
    throw refuse('signature', 'must be base64url');
  }
  const signature = Buffer.from(signed.signature, 'base64url');
  // Node's decoder ignores stray padding bits: only the canonical encoding of 64 bytes is accepted.
  if (signature.byteLength !== SIGNATURE_BYTES || signature.toString('base64url') !== signed.signature) {
    throw refuse('signature', 'must be a base64url Ed25519 signature');
  }
  const bundle = signed.bundle;
  if (typeof bundle !== 'object' || bundle === null || Array.isArray(bundle)) {
    throw refuse('bundle', 'must be an object');
  }
  const bytes = Buffer.from(canonicalBundleJson(bundle as PolicyBundle), 'utf8');
  if (!verify(null, bytes, publicKey, signature)) {
    throw refuse('signature', 'does not verify');
  }
  const problems = validateBundle(bundle);
  if (problems.length > 0) {
    throw new PolicyBundleError(problems);
  }

  return bundle as PolicyBundle;
}
