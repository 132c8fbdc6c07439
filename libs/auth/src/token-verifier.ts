import type { PrincipalKind, TokenClaims } from '@vivified/contracts';
import { parseSubject, tokenContract, VivifiedError } from '@vivified/contracts';
import type { Principal } from '@vivified/nats-transport';
import type { CryptoKey, JWTPayload, KeyObject } from 'jose';
import { decodeProtectedHeader, errors, jwtVerify } from 'jose';

import type { TokenRejection } from './errors';
import { invalidToken, keysUnavailable } from './errors';

/** A public key a token can be verified with (what jose's `importJWK` answers for an OKP key). */
export type VerificationKey = CryptoKey | KeyObject;

/** Finds the public key of a `kid`; answers undefined for a key it does not know or no longer trusts. */
export interface KeyResolver {
  resolve(kid: string): Promise<VerificationKey | undefined>;
}

/** A token that passed every check, and who it stands for. */
export interface VerifiedToken {
  principal: Principal;
  claims: TokenClaims;
}

/** Verifies a bearer token (what {@link AuthGuard} and the gateway need of a {@link TokenVerifier}). */
export interface BearerVerifier {
  verify(token: string): Promise<VerifiedToken>;
}

/** Options of a {@link TokenVerifier}. */
export interface TokenVerifierOptions {
  /** Where public keys come from (a {@link JwksKeyStore} in a service). */
  keys: KeyResolver;
  /** @default tokenContract.issuer */
  issuer?: string;
  /** @default tokenContract.audience */
  audience?: string;
  /**
   * Clock skew accepted on `exp`, `nbf` and `iat`, in seconds.
   * @default 5
   */
  clockToleranceSeconds?: number;
  /**
   * Oldest `iat` accepted, in seconds: no token identity signs lives longer.
   * @default the longest token lifetime of tokenContract (1 h)
   */
  maxTokenAgeSeconds?: number;
  /** The clock, in epoch milliseconds (tests). */
  now?: () => number;
  /**
   * How many verified tokens are remembered, so a caller's next request skips the signature check.
   * @default 10000 (0 turns the cache off)
   */
  cacheSize?: number;
  /**
   * How long a verified token is remembered at most, in seconds (never past its `exp`).
   * @default 60
   */
  cacheTtlSeconds?: number;
}

interface CachedVerification {
  kid: string;
  until: number;
  result: VerifiedToken;
}

const KINDS: ReadonlySet<string> = new Set<PrincipalKind>(['user', 'plugin', 'service']);

/** Far above any token identity signs (a few hundred bytes); refused before any parsing. */
const MAX_TOKEN_LENGTH = 8192;

const LONGEST_LIFETIME = Math.max(
  tokenContract.lifetimes.userAccess,
  tokenContract.lifetimes.plugin,
  tokenContract.lifetimes.service,
);

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** Maps what jose throws to the reason a caller sees. */
function rejectionOf(error: unknown): TokenRejection {
  if (error instanceof errors.JWTExpired) {
    return 'token_expired';
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'check_failed') {
      switch (error.claim) {
        case 'iss':
          return 'issuer_mismatch';
        case 'aud':
          return 'audience_mismatch';
        case 'nbf':
        case 'iat':
          return 'token_not_yet_valid';
        default:
          return 'claims_invalid';
      }
    }

    return 'claims_invalid';
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return 'signature_invalid';
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return 'alg_not_allowed';
  }

  return 'token_malformed';
}

/** Checks the claims jose does not know about and builds the typed claims. */
function typedClaims(payload: JWTPayload): TokenClaims {
  const { iss, aud, sub, jti, iat, exp } = payload;
  const { typ, traits, roles, sid, amr } = payload as Record<string, unknown>;
  if (
    typeof iss !== 'string' ||
    typeof aud !== 'string' ||
    typeof sub !== 'string' ||
    typeof jti !== 'string' ||
    jti.length === 0 ||
    typeof iat !== 'number' ||
    typeof exp !== 'number' ||
    typeof typ !== 'string' ||
    !KINDS.has(typ) ||
    !isStringArray(traits) ||
    (roles !== undefined && !isStringArray(roles)) ||
    (sid !== undefined && typeof sid !== 'string') ||
    (amr !== undefined && !isStringArray(amr))
  ) {
    throw invalidToken('claims_invalid');
  }
  const subject = parseSubject(sub);
  if (!subject || subject.kind !== typ) {
    throw invalidToken('claims_invalid');
  }

  return {
    iss,
    aud,
    sub,
    typ,
    traits: [...traits],
    ...(roles === undefined ? {} : { roles: [...roles] }),
    ...(sid === undefined ? {} : { sid }),
    ...(amr === undefined ? {} : { amr: [...amr] }),
    jti,
    iat,
    exp,
  };
}

/**
 * Verifies the access, plugin and service tokens identity signs (ADR-0005): EdDSA only, decided from the
 * protected header before any key is looked up, the key chosen by `kid` alone, then issuer, audience, lifetime
 * and the claims of `TokenClaims`. Every refusal is `UNAUTHENTICATED` "invalid token" with the cause in `reason`.
 */
export class TokenVerifier implements BearerVerifier {
  private readonly keys: KeyResolver;
  private readonly issuer: string;
  private readonly audience: string;
  private readonly clockTolerance: number;
  private readonly maxTokenAge: number;
  private readonly now: () => number;
  private readonly cacheSize: number;
  private readonly cacheTtlMs: number;
  private readonly verified = new Map<string, CachedVerification>();

  constructor(options: TokenVerifierOptions) {
    this.keys = options.keys;
    this.issuer = options.issuer ?? tokenContract.issuer;
    this.audience = options.audience ?? tokenContract.audience;
    this.clockTolerance = options.clockToleranceSeconds ?? 5;
    this.maxTokenAge = options.maxTokenAgeSeconds ?? LONGEST_LIFETIME;
    this.now = options.now ?? Date.now;
    this.cacheSize = options.cacheSize ?? 10_000;
    this.cacheTtlMs = (options.cacheTtlSeconds ?? 60) * 1000;
  }

  /**
   * Verifies a compact JWS and answers its principal and claims; throws a typed error otherwise. A token verified
   * before is answered from memory — the same string, so the same signature — while it is unexpired and its key is
   * still trusted (a retired or deleted key ends the cached answer too).
   */
  async verify(token: string): Promise<VerifiedToken> {
    const cached = this.verified.get(token);
    if (cached) {
      if (cached.until > this.now() && (await this.resolveKey(cached.kid))) {
        return copyOf(cached.result);
      }
      this.verified.delete(token);
    }
    const result = await this.verifyFully(token);
    this.remember(token, result);

    return copyOf(result);
  }

  private remember(token: string, result: VerifiedToken): void {
    if (this.cacheSize === 0) {
      return;
    }
    if (this.verified.size >= this.cacheSize) {
      // the oldest entry goes first (a Map iterates in insertion order)
      this.verified.delete(this.verified.keys().next().value as string);
    }
    const kid = decodeProtectedHeader(token).kid as string;
    const until = Math.min(result.claims.exp * 1000, this.now() + this.cacheTtlMs);
    this.verified.set(token, { kid, until, result });
  }

  private async verifyFully(token: string): Promise<VerifiedToken> {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
      throw invalidToken('token_malformed');
    }
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch (error) {
      throw invalidToken('token_malformed', error);
    }
    // a JWE header decodes too; only a three-part JWS is a token
    if (token.split('.').length !== 3) {
      throw invalidToken('token_malformed');
    }
    // decided before any key lookup, so no `alg` of the attacker's choosing ever meets a key (no confusion)
    if (header.alg !== tokenContract.algorithm) {
      throw invalidToken('alg_not_allowed');
    }
    if (typeof header.kid !== 'string' || header.kid.length === 0) {
      throw invalidToken('kid_missing');
    }
    const key = await this.resolveKey(header.kid);
    if (!key) {
      throw invalidToken('kid_unknown');
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: [tokenContract.algorithm],
        issuer: this.issuer,
        audience: this.audience,
        clockTolerance: this.clockTolerance,
        maxTokenAge: this.maxTokenAge,
        currentDate: new Date(this.now()),
        requiredClaims: ['sub', 'jti', 'iat', 'exp'],
      }));
    } catch (error) {
      throw invalidToken(rejectionOf(error), error);
    }
    const claims = typedClaims(payload);
    const subject = parseSubject(claims.sub) as { kind: PrincipalKind; id: string };

    return {
      principal: {
        kind: subject.kind,
        id: subject.id,
        traits: [...claims.traits],
        roles: [...(claims.roles ?? [])],
      },
      claims,
    };
  }

  private async resolveKey(kid: string): Promise<VerificationKey | undefined> {
    try {
      return await this.keys.resolve(kid);
    } catch (error) {
      throw error instanceof VivifiedError ? error : keysUnavailable(error);
    }
  }
}

function copyOf(verified: VerifiedToken): VerifiedToken {
  return {
    principal: {
      ...verified.principal,
      traits: [...verified.principal.traits],
      roles: [...verified.principal.roles],
    },
    claims: {
      ...verified.claims,
      traits: [...verified.claims.traits],
      ...(verified.claims.roles ? { roles: [...verified.claims.roles] } : {}),
      ...(verified.claims.amr ? { amr: [...verified.claims.amr] } : {}),
    },
  };
}
