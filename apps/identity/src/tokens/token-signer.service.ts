import { randomUUID } from 'node:crypto';

import { Inject, Injectable, Optional } from '@nestjs/common';
import type { PrincipalKind } from '@vivified/contracts';
import { ErrorCode, parseSubject, tokenContract, VivifiedError } from '@vivified/contracts';
import { decodeProtectedHeader, errors, jwtVerify, SignJWT } from 'jose';

import type { Clock } from './clock';
import { CLOCK, epochSeconds, systemClock } from './clock';
import { SigningKeysService } from './signing-keys.service';

/** What a token says; `iss`, `jti`, `iat` and `exp` are added when it is signed. */
export interface TokenSubject {
  /** `user:<uuid>` | `plugin:<id>` | `service:<name>`. */
  sub: string;
  typ: PrincipalKind;
  traits: readonly string[];
  roles?: readonly string[];
  sid?: string;
  /** @default tokenContract.audience */
  audience?: string;
  /**
   * How the user proved who they are (claim `amr`): the session's login method on a session's access token and on a
   * password-change token, `tokenContract.apiKeyMethod` on an API-key token.
   */
  method?: string;
  /** Seconds. */
  lifetime: number;
}

/** A signed token and its lifetime in seconds. */
export interface SignedToken {
  token: string;
  expiresIn: number;
}

/** A single-purpose user token (enrolment, password change): its audience, lifetime and name in errors. */
interface Purpose {
  audience: string;
  lifetime: number;
  name: string;
}

const ENROLLMENT: Purpose = {
  audience: tokenContract.enrollmentAudience,
  lifetime: tokenContract.lifetimes.enrollment,
  name: 'enrolment',
};

const PASSWORD_CHANGE: Purpose = {
  audience: tokenContract.passwordChangeAudience,
  lifetime: tokenContract.lifetimes.passwordChange,
  name: 'password-change',
};

const invalidToken = (purpose: Purpose, reason: string, cause?: unknown) =>
  new VivifiedError(ErrorCode.Unauthenticated, `invalid ${purpose.name} token`, { reason, cause });

/** Signs every token identity hands out (claims of `TokenClaims`, ADR-0005) and verifies enrolment tokens. */
@Injectable()
export class TokenSigner {
  private readonly clock: Clock;

  constructor(
    private readonly keys: SigningKeysService,
    @Optional() @Inject(CLOCK) clock?: Clock,
  ) {
    this.clock = clock ?? systemClock;
  }

  async sign(subject: TokenSubject): Promise<SignedToken> {
    const key = await this.keys.signingKey();
    const iat = epochSeconds(this.clock.now());
    const token = await new SignJWT({
      typ: subject.typ,
      traits: [...subject.traits],
      ...(subject.roles ? { roles: [...subject.roles] } : {}),
      ...(subject.sid ? { sid: subject.sid } : {}),
      ...(subject.method ? { amr: [subject.method] } : {}),
    })
      .setProtectedHeader({ alg: tokenContract.algorithm, kid: key.kid, typ: 'JWT' })
      .setIssuer(tokenContract.issuer)
      .setAudience(subject.audience ?? tokenContract.audience)
      .setSubject(subject.sub)
      .setJti(randomUUID())
      .setIssuedAt(iat)
      .setExpirationTime(iat + subject.lifetime)
      .sign(key.privateKey);

    return { token, expiresIn: subject.lifetime };
  }

  /**
   * Verifies an MFA enrolment token and answers its user id. Access tokens are refused here (their audience
   * differs), as enrolment tokens are refused by every access-token verifier.
   */
  async verifyEnrollment(token: string): Promise<string> {
    return (await this.verifyPurpose(token, ENROLLMENT)).userId;
  }

  /**
   * Verifies a password-change token and answers its user id and the login method it carries (`amr`). Access
   * and enrolment tokens are refused here (audience), and this token is refused everywhere else.
   */
  async verifyPasswordChange(token: string): Promise<{ userId: string; method: string }> {
    const { userId, payload } = await this.verifyPurpose(token, PASSWORD_CHANGE);
    const amr = payload['amr'];
    const method = Array.isArray(amr) && amr.length === 1 && typeof amr[0] === 'string' ? amr[0] : undefined;
    if (method === undefined) {
      throw invalidToken(PASSWORD_CHANGE, 'claims_invalid');
    }

    return { userId, method };
  }

  private async verifyPurpose(
    token: string,
    purpose: Purpose,
  ): Promise<{ userId: string; payload: Record<string, unknown> }> {
    let kid: unknown;
    try {
      const header = decodeProtectedHeader(token);
      if (header.alg !== tokenContract.algorithm) {
        throw invalidToken(purpose, 'alg_not_allowed');
      }
      kid = header.kid;
    } catch (error) {
      throw error instanceof VivifiedError ? error : invalidToken(purpose, 'token_malformed', error);
    }
    const key = typeof kid === 'string' ? await this.keys.verificationKey(kid) : undefined;
    if (!key) {
      throw invalidToken(purpose, 'kid_unknown');
    }
    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: [tokenContract.algorithm],
        issuer: tokenContract.issuer,
        audience: purpose.audience,
        currentDate: this.clock.now(),
        clockTolerance: 5,
        maxTokenAge: purpose.lifetime,
        requiredClaims: ['sub', 'jti', 'iat', 'exp'],
      }));
    } catch (error) {
      throw invalidToken(
        purpose,
        error instanceof errors.JWTExpired ? 'token_expired' : 'token_invalid',
        error,
      );
    }
    const subject = typeof payload.sub === 'string' ? parseSubject(payload.sub) : undefined;
    if (!subject || subject.kind !== 'user' || payload['typ'] !== 'user') {
      throw invalidToken(purpose, 'claims_invalid');
    }

    return { userId: subject.id, payload };
  }
}
