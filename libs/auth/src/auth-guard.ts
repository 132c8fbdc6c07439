import type { Access, Classification, PrincipalKind } from '@vivified/contracts';
import { headers as headerNames } from '@vivified/contracts';
import type {
  GuardInput,
  GuardResult,
  HandlerGuard,
  Principal,
  TransportLogger,
} from '@vivified/nats-transport';
import { silentLogger } from '@vivified/nats-transport';
import type { MsgHdrs } from 'nats';
import { Match } from 'nats';

import type { AccessDenial } from './errors';
import { accessDenied, invalidToken } from './errors';
import type { BearerVerifier, VerifiedToken } from './token-verifier';

const ALL_KINDS: readonly PrincipalKind[] = ['user', 'plugin', 'service'];

const BEARER = /^Bearer +([A-Za-z0-9_\-.=~+/]+)\s*$/i;

/**
 * Interim classification rules (ARCHITECTURE §5) until the policy engine takes the decision behind the same
 * guard: each classification the request touches needs every trait listed. Roles open nothing here: an admin
 * without `handles_phi` does not reach PHI.
 */
const CLASSIFICATION_TRAITS: ReadonlyArray<{
  classification: Classification;
  traits: readonly string[];
  reason: AccessDenial;
}> = [
  {
    classification: 'phi',
    traits: ['handles_phi', 'audit_required', 'encryption_required'],
    reason: 'phi_trait_missing',
  },
  { classification: 'pii', traits: ['handles_pii', 'audit_required'], reason: 'pii_trait_missing' },
  { classification: 'confidential', traits: ['handles_confidential'], reason: 'confidential_trait_missing' },
];

/** The token of an `Authorization: Bearer <token>` value; undefined when there is none or it is not a bearer. */
export function parseBearer(value: string | null | undefined): string | undefined {
  if (!value) {
    return undefined;
  }

  return BEARER.exec(value)?.[1];
}

/** The bearer token of a NATS message (header name and scheme matched case-insensitively). */
export function bearerToken(headers: MsgHdrs | undefined): string | undefined {
  if (!headers) {
    return undefined;
  }

  return parseBearer(headers.get(headerNames.authorization, Match.IgnoreCase));
}

/**
 * Authenticates an HTTP `Authorization` header value (the gateway's edge): no bearer token is
 * `UNAUTHENTICATED` `token_missing`, anything else is the verifier's verdict.
 */
export async function authenticateAuthorization(
  headerValue: string | undefined,
  verifier: BearerVerifier,
): Promise<VerifiedToken> {
  const token = parseBearer(headerValue);
  if (!token) {
    throw invalidToken('token_missing');
  }

  return verifier.verify(token);
}

/**
 * Checks an authenticated principal against a contract's access and the classifications of the request;
 * throws `POLICY_DENIED` with the first rule it breaks.
 */
export function checkAccess(
  principal: Principal,
  access: Access,
  classification: readonly Classification[] = [],
): void {
  if (access.public === true) {
    return;
  }
  if (!(access.kinds ?? ALL_KINDS).includes(principal.kind)) {
    throw accessDenied('principal_kind_not_allowed');
  }
  const traits = new Set(principal.traits);
  if (access.anyTrait && access.anyTrait.length > 0 && !access.anyTrait.some((trait) => traits.has(trait))) {
    throw accessDenied('trait_missing');
  }
  const touched = new Set<Classification>([...(access.classification ?? []), ...classification]);
  for (const rule of CLASSIFICATION_TRAITS) {
    if (touched.has(rule.classification) && !rule.traits.every((trait) => traits.has(trait))) {
      throw accessDenied(rule.reason);
    }
  }
}

/** Options of an {@link AuthGuard}. */
export interface AuthGuardOptions {
  verifier: BearerVerifier;
  logger?: TransportLogger;
}

/**
 * The guard every non-public handler passes (ADR-0005): authenticates the bearer token, then enforces the
 * contract's `kinds`, `anyTrait` and the interim classification rules, for the union of the contract's
 * classification and the one the caller declared. The payload goes through unchanged.
 */
export class AuthGuard implements HandlerGuard {
  private readonly verifier: BearerVerifier;
  private readonly log: TransportLogger;

  constructor(options: AuthGuardOptions) {
    this.verifier = options.verifier;
    this.log = options.logger ?? silentLogger;
  }

  async authorize(input: GuardInput): Promise<GuardResult> {
    const token = bearerToken(input.headers);
    if (!token) {
      throw invalidToken('token_missing');
    }
    let principal: Principal;
    try {
      ({ principal } = await this.verifier.verify(token));
    } catch (error) {
      this.log.debug(
        { subject: input.subject, reason: (error as { reason?: string }).reason },
        'token refused',
      );
      throw error;
    }
    try {
      checkAccess(principal, input.access, input.classification);
    } catch (error) {
      this.log.info(
        {
          subject: input.subject,
          principal: { kind: principal.kind, id: principal.id },
          reason: (error as { reason?: string }).reason,
        },
        'access denied',
      );
      throw error;
    }

    return { principal, payload: input.payload };
  }
}
