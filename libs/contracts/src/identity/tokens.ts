import { IsInt, IsOptional, IsString, Min } from 'class-validator';

import type { PrincipalKind } from '../rpc';

/**
 * Token contract of ARCHITECTURE §4. DO NOT CHANGE THE VALUES: every service verifies tokens against them.
 */
export const tokenContract = {
  /** `iss` of every token identity signs. */
  issuer: 'urn:vivified:identity',
  /** `aud` of every access, plugin and service token. */
  audience: 'urn:vivified',
  /** `aud` of an MFA enrolment token: it opens TOTP setup and nothing else. */
  enrollmentAudience: 'urn:vivified:mfa-enrollment',
  /** `aud` of a password-change token: it opens the required password change after a login, nothing else. */
  passwordChangeAudience: 'urn:vivified:password-change',
  /** The JWS algorithm of every token (Ed25519). */
  algorithm: 'EdDSA',
  /**
   * `amr` of a user access token exchanged for an API key; a session's access token carries its session's login
   * method instead (`password`, `password+totp`, `password+backup_code`, `totp_enrollment`, `webauthn`).
   */
  apiKeyMethod: 'api_key',
  /** Lifetimes in seconds. */
  lifetimes: {
    /** A user's access token. */
    userAccess: 15 * 60,
    /** A plugin token, renewed by the SDK with its client secret. */
    plugin: 60 * 60,
    /** A core service's token. */
    service: 60 * 60,
    /** An MFA enrolment token. */
    enrollment: 10 * 60,
    /** A password-change token (a login of a user who must change its password). */
    passwordChange: 10 * 60,
    /** A session unused this long ends (idle timeout). */
    sessionIdle: 30 * 60,
    /** A session ends this long after login whatever its use. */
    sessionAbsolute: 12 * 60 * 60,
  },
} as const;

/** The claims of an access, plugin or service token. */
export interface TokenClaims {
  /** {@link tokenContract.issuer}. */
  iss: string;
  /** {@link tokenContract.audience}. */
  aud: string;
  /** `user:<uuid>` | `plugin:<id>` | `service:<name>`. */
  sub: string;
  /** The kind of principal. */
  typ: PrincipalKind;
  /** Effective traits (a user's come from its roles). */
  traits: string[];
  /** A user's roles. */
  roles?: string[];
  /** Session id of a user token (its refresh-token family); revoking the session revokes the token. */
  sid?: string;
  /**
   * How a user token was obtained (RFC 8176's claim, with identity's own values): one login method of a session
   * (`password`, `password+totp`, `password+backup_code`, `totp_enrollment`, `webauthn`), or
   * {@link tokenContract.apiKeyMethod} for a token exchanged for an API key. Absent on plugin and service tokens,
   * and on user tokens signed before the claim existed.
   */
  amr?: string[];
  /** Token id. */
  jti: string;
  /** Issued at (seconds). */
  iat: number;
  /** Expires at (seconds). */
  exp: number;
}

/** Splits a `sub` claim into kind and id; undefined when malformed. */
export function parseSubject(sub: string): { kind: PrincipalKind; id: string } | undefined {
  const match = /^(user|plugin|service):([A-Za-z0-9_.-]{1,128})$/.exec(sub);

  return match ? { kind: match[1] as PrincipalKind, id: match[2] } : undefined;
}

/** Tokens of a signed-in user. */
export class TokenPair {
  /** JWT, {@link tokenContract.lifetimes.userAccess} seconds. */
  @IsString()
  accessToken!: string;

  /** Opaque, single use: each refresh answers a new one; reusing an old one revokes the session. */
  @IsString()
  refreshToken!: string;

  /** Seconds until the access token expires. */
  @IsInt()
  @Min(0)
  expiresIn!: number;

  /** `Bearer`. */
  @IsString()
  tokenType!: 'Bearer';
}

/** A single JWT with its lifetime (plugin, service and API-key tokens). */
export class AccessToken {
  /** The JWT. */
  @IsString()
  accessToken!: string;

  /** Seconds until it expires. */
  @IsInt()
  @Min(0)
  expiresIn!: number;

  /** `Bearer`. */
  @IsString()
  tokenType!: 'Bearer';
}

/**
 * A public signing key as stored in the `vivified_jwks` bucket (key = `kid`) and served in the JWKS: an OKP
 * Ed25519 JWK plus when it stops verifying.
 */
export class JwksEntry {
  @IsString()
  kty!: 'OKP';

  @IsString()
  crv!: 'Ed25519';

  /** Public key, base64url. */
  @IsString()
  x!: string;

  @IsString()
  kid!: string;

  @IsString()
  alg!: 'EdDSA';

  @IsString()
  use!: 'sig';

  /** When the key was created (ISO 8601). */
  @IsString()
  createdAt!: string;

  /** After this instant (ISO 8601) no token signed by the key is valid any more; absent while current. */
  @IsOptional()
  @IsString()
  retiresAt?: string;
}
