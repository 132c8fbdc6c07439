import type { KeyObject } from 'node:crypto';
import { createHash, createPrivateKey, createPublicKey, randomUUID, sign } from 'node:crypto';

import type { CallKey, CallTokenClaims } from '@vivified/contracts';
import { callTokenContract } from '@vivified/contracts';

/** PKCS#8 DER header of an Ed25519 private key; the 32-byte seed follows it (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** What a call names; the signer adds issuer, type, id and times. */
export interface CallTokenInput {
  /** `plugin:<id>` or `service:<name>` of the caller. */
  caller: string;
  target: string;
  operation: string;
  traceId?: string;
  traits: readonly string[];
  /** Epoch milliseconds after which the token is worthless (the call's deadline). */
  deadline: number;
}

const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/**
 * Signs the call tokens of the operator lane with the gateway's own Ed25519 key, derived from the platform KEK
 * (`hashKey('vivified.call-token-signing')`), so every gateway replica signs with the same key and no key is
 * stored. The JWS is built with node:crypto directly (one native signature, no JOSE library on the hot path);
 * any JOSE library verifies it with {@link CallTokenSigner.jwk}.
 */
export class CallTokenSigner {
  /** Key id (`ct1-` + 16 bytes of SHA-256 over the SPKI DER, base64url). */
  readonly kid: string;
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly header: string;

  constructor(seed: Uint8Array) {
    if (seed.byteLength !== 32) {
      throw new TypeError('CallTokenSigner: the seed must be 32 bytes');
    }
    const der = Buffer.concat([ED25519_PKCS8_PREFIX, seed]);
    this.privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    der.fill(0);
    this.publicKey = createPublicKey(this.privateKey);
    const spki = this.publicKey.export({ format: 'der', type: 'spki' });
    this.kid = `ct1-${createHash('sha256').update(spki).digest().subarray(0, 16).toString('base64url')}`;
    this.header = b64(
      JSON.stringify({ alg: callTokenContract.algorithm, kid: this.kid, typ: callTokenContract.headerType }),
    );
  }

  /** The public key as a JWK (what `vivified.v1.gateway.call-key.get` answers). */
  jwk(): CallKey {
    const jwk = this.publicKey.export({ format: 'jwk' }) as { x: string };

    return { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid: this.kid, alg: 'EdDSA', use: 'sig' };
  }

  /** Signs a call token that expires with the call's deadline (at most the contract's longest lifetime). */
  sign(input: CallTokenInput): string {
    const iat = Math.floor(Date.now() / 1000);
    const exp = Math.min(iat + callTokenContract.maxLifetimeSeconds, Math.ceil(input.deadline / 1000) + 1);
    const claims: CallTokenClaims = {
      iss: callTokenContract.issuer,
      aud: `plugin:${input.target}`,
      sub: input.caller,
      typ: callTokenContract.type,
      target: input.target,
      operation: input.operation,
      ...(input.traceId === undefined ? {} : { trace: input.traceId }),
      traits: [...input.traits],
      jti: randomUUID(),
      iat,
      exp,
    };
    const signingInput = `${this.header}.${b64(JSON.stringify(claims))}`;

    return `${signingInput}.${sign(null, Buffer.from(signingInput), this.privateKey).toString('base64url')}`;
  }
}
