import { Type } from 'class-transformer';
import { IsArray, IsIn, IsString, ValidateNested } from 'class-validator';

/**
 * The call token of the operator lane: the gateway signs one for every forwarded call and sends it as
 * `Authorization: Bearer` to `vivified.v1.plugin.<target>.rpc.<operation>` in place of the caller's own token,
 * which never leaves the gateway. Plugins verify it with the key of `vivified.v1.gateway.call-key.get`
 * (docs/lanes.md).
 */
export const callTokenContract = {
  /** `alg` of the protected header (Ed25519). */
  algorithm: 'EdDSA',
  /** `typ` of the protected header. */
  headerType: 'vivified-call+jwt',
  /** `iss`. */
  issuer: 'vivified-gateway',
  /** `typ` claim. */
  type: 'call',
  /** Longest lifetime of a call token, in seconds (it expires with the call's deadline, at most this). */
  maxLifetimeSeconds: 300,
  /** HKDF purpose the gateway passes to `KekProvider.hashKey` for the seed of its signing key. */
  signingPurpose: 'vivified.call-token-signing',
} as const;

/** Claims of a call token. */
export interface CallTokenClaims {
  /** {@link callTokenContract.issuer}. */
  iss: string;
  /** `plugin:<targetId>`: the only party that should accept it. */
  aud: string;
  /** The caller: `plugin:<id>` (or `service:<name>` for a core service). */
  sub: string;
  /** {@link callTokenContract.type}. */
  typ: string;
  /** Target plugin id. */
  target: string;
  /** Operation name. */
  operation: string;
  /** W3C trace id of the call (32 hex), when the call carried one. */
  trace?: string;
  /** Traits of the caller the policy decided with (its approved traits). */
  traits: string[];
  /** Unique id. */
  jti: string;
  /** Issued at (epoch seconds). */
  iat: number;
  /** Expiry (epoch seconds): the call's deadline. */
  exp: number;
}

/** Request of `vivified.v1.gateway.call-key.get`: no fields. */
export class CallKeyRequest {}

/** One public key that verifies call tokens (a JWK). */
export class CallKey {
  @IsIn(['OKP'])
  kty!: 'OKP';

  @IsIn(['Ed25519'])
  crv!: 'Ed25519';

  /** Public key, base64url. */
  @IsString()
  x!: string;

  /** Key id, the `kid` of call tokens it verifies. */
  @IsString()
  kid!: string;

  @IsIn(['EdDSA'])
  alg!: 'EdDSA';

  @IsIn(['sig'])
  use!: 'sig';
}

/** Reply of `vivified.v1.gateway.call-key.get`: a JWKS of the call-token keys. */
export class CallKeyReply {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => CallKey)
  keys!: CallKey[];
}
