import { bearerToken, invalidToken } from '@vivified/auth';
import type { BearerVerifier, TokenRejection, VerifiedToken } from '@vivified/auth';
import type { Access, AuditCategory, AuditOutcome, Classification, PrincipalKind } from '@vivified/contracts';
import { ErrorCode, VivifiedError } from '@vivified/contracts';
import type {
  GuardInput,
  GuardResult,
  HandlerGuard,
  Principal,
  TransportLogger,
} from '@vivified/nats-transport';
import { silentLogger } from '@vivified/nats-transport';
import type {
  PolicyDecider,
  PolicyDecision,
  PolicyEffect,
  PolicyInput,
  PolicyResource,
} from '@vivified/policy-engine';
import { actionSpec } from '@vivified/policy-engine';
import type { MsgHdrs } from 'nats';

import type { PolicySidecarMetrics } from './metrics';
import type { PluginStatusLookup } from './plugin-status-store';
import type { SessionRevocationLookup } from './session-revocation-store';
import { redactFields } from './redact';

/** A decision audit record, as the service's `AuditEmitter.emit` takes it (a subset of its `AuditInput`). */
export interface DecisionAuditInput {
  category: AuditCategory;
  action: string;
  outcome: AuditOutcome;
  actor: { kind: PrincipalKind; id: string };
  pluginId?: string;
  classification: Classification[];
  details: Record<string, unknown>;
}

/**
 * Where decision audit records go: service-kit's `AuditEmitter`. `emit` resolves the stored record (its `id` is
 * the `auditId` of a deny) and rejects when a PHI record cannot be stored.
 */
export interface DecisionAuditSink {
  emit(input: DecisionAuditInput): Promise<{ id: string }>;
}

/** What an input enricher is given besides the input the sidecar built. */
export interface EnrichmentContext {
  readonly subject: string;
  readonly payload: unknown;
  readonly principal: Principal;
}

/**
 * Adds what only the service knows to the input of one action (lane parties, `context.operation`,
 * `context.domain`). It may not change the action, the principal or the classification (the sidecar puts them
 * back).
 */
export type PolicyInputEnricher = (input: PolicyInput, context: EnrichmentContext) => PolicyInput;

/** The request of a public contract that authenticates its caller itself ({@link PolicySidecar.authenticate}). */
export interface AuthenticationInput {
  /** The subject the request came on (named in the audit record of a refusal). */
  subject: string;
  /** Its headers: the bearer token, and `traceparent` for the audit record. */
  headers: MsgHdrs | undefined;
  /** The action the audit record of a refusal names (a public contract has no policy action). */
  action: string;
}

/** Options of a {@link PolicySidecar}. */
export interface PolicySidecarOptions {
  /** Verifies the caller's bearer token (libs/auth `TokenVerifier`). */
  verifier: BearerVerifier;
  /** Live plugin status and approved traits (`PluginStatusStore`). */
  plugins: PluginStatusLookup;
  /** Revoked user tokens and deactivated users (`SessionRevocationStore`). */
  sessions: SessionRevocationLookup;
  /** The decision engine over the bundle in force (`PolicyBundleStore.engine`). */
  decider: PolicyDecider;
  /** Decision audit (the service's `AuditEmitter`). */
  audit: DecisionAuditSink;
  /** Decision metrics (the service's `ServiceMetrics`). */
  metrics?: PolicySidecarMetrics;
  logger?: TransportLogger;
  /** The clock, in epoch milliseconds (break-glass grants read it). */
  now?: () => number;
}

/** Why the sidecar itself (not the engine) refused: the rule id names the check. */
const CONTRACT_KINDS = 'contract_kinds';
const CONTRACT_TRAITS = 'contract_traits';
const PLUGIN_STATUS = 'plugin_status';
const USER_INACTIVE = 'user_inactive';
const USER_TOKEN_REVOKED = 'user_token_revoked';

/**
 * `payload` fields that name the resource of an action, by resource type: only where a rule reads `resource.id`
 * (a plugin acting on itself, a UI feature); elsewhere an id would only split the decision cache.
 */
const RESOURCE_ID_FIELDS: Readonly<Record<string, string>> = {
  plugins: 'pluginId',
  plugin_credentials: 'pluginId',
  ui_feature: 'feature',
};

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/;

function traceIdOf(input: GuardInput): string | undefined {
  const value = input.headers?.get('traceparent');
  const traceId = value ? TRACEPARENT.exec(value.trim())?.[1] : undefined;

  return traceId === undefined || /^0+$/.test(traceId) ? undefined : traceId;
}

function classificationOf(access: Access, declared: readonly Classification[]): Classification[] {
  const own = access.public === true ? [] : (access.classification ?? []);

  return [...new Set<Classification>([...own, ...declared])].sort();
}

/** The resource of an action: its type from the vocabulary, its id from the payload field named for that type. */
function resourceOf(action: string, payload: unknown): PolicyResource {
  const type = actionSpec(action)?.resource ?? '';
  const field = RESOURCE_ID_FIELDS[type];
  const id =
    field !== undefined && typeof payload === 'object' && payload !== null
      ? (payload as Record<string, unknown>)[field]
      : undefined;

  return typeof id === 'string' && id.length > 0 ? { type, id } : { type };
}

interface Refusal {
  effect: 'deny';
  ruleId: string;
  reason: string;
  bundleVersion: number;
}

/**
 * The policy sidecar (ARCHITECTURE §1, §5): the guard the transport runs before every non-public handler of a
 * service. In order:
 * 1. verifies the bearer token (none: `UNAUTHENTICATED` `token_missing`); a user's token must also stand against
 *    the `vivified_sessions` bucket: issued before the user's `validAfter`, or of a deactivated user, it is
 *    `UNAUTHENTICATED` `token_revoked` (audited, ruleId `user_token_revoked` / `user_inactive`);
 * 2. the contract's hard constraints: `kinds` (`POLICY_DENIED` `principal_kind_not_allowed`) and `anyTrait`
 *    (`trait_missing`);
 * 3. live status: a plugin must be `active` in the `vivified_plugins` bucket, else `PLUGIN_INACTIVE`; its traits
 *    are the approved ones of its entry, not the token's; services with a valid token, and users with a valid unrevoked one, are active;
 * 4. decides locally with the engine over the bundle in force, for the contract's action, the union of the
 *    contract's classification and the caller's `Vivified-Classification`, the action's resource type (with the
 *    id from the payload: `pluginId` for plugins and plugin credentials, `feature` for UI features) and the
 *    time; a service adds lane details (parties, operation, domain) with {@link PolicySidecar.enrich};
 * 5. allow: the handler runs; sanitize: the handler sees the payload without the decision's `redactFields` (see
 *    {@link redactFields}); deny: `POLICY_DENIED` with the engine's reason and the id of the audit record.
 *
 * Every deny, and every allow or sanitize on PHI or PII or audited `detailed`, writes a `policy` audit record
 * (`policy.decide`; details: action, effect, ruleId, reason, bundleVersion, traceId, subject — never the
 * payload). An allow on PHI waits for its record and fails closed (`UNAVAILABLE`) when the audit stream cannot
 * take it; other allow records are not waited for.
 */
export class PolicySidecar implements HandlerGuard {
  private readonly verifier: BearerVerifier;
  private readonly plugins: PluginStatusLookup;
  private readonly sessions: SessionRevocationLookup;
  private readonly decider: PolicyDecider;
  private readonly audit: DecisionAuditSink;
  private readonly metrics: PolicySidecarMetrics | undefined;
  private readonly log: TransportLogger;
  private readonly now: () => number;
  private readonly enrichers = new Map<string, PolicyInputEnricher>();
  private readonly unknownActions = new Set<string>();

  constructor(options: PolicySidecarOptions) {
    this.verifier = options.verifier;
    this.plugins = options.plugins;
    this.sessions = options.sessions;
    this.decider = options.decider;
    this.audit = options.audit;
    this.metrics = options.metrics;
    this.log = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
  }

  /** The version of the bundle in force. */
  get bundleVersion(): number {
    return this.decider.bundleVersion;
  }

  /** Lets the service add lane details to the input of `action` (one enricher per action). */
  enrich(action: string, enricher: PolicyInputEnricher): void {
    if (this.enrichers.has(action)) {
      throw new Error(`an input enricher for ${action} is already registered`);
    }
    this.enrichers.set(action, enricher);
  }

  async authorize(input: GuardInput): Promise<GuardResult> {
    const verified = await this.verify(input.subject, input.headers);
    const { principal } = verified;
    const issuedAt = verified.claims.iat;
    const { access } = input;
    if (access.public === true) {
      return { principal, payload: input.payload };
    }
    const classification = classificationOf(access, input.classification);
    const traceId = traceIdOf(input);
    const started = performance.now();

    if (principal.kind === 'user') {
      await this.assertUserTokenStands(input, principal, issuedAt, classification, traceId, started);
    }
    if (access.kinds && !access.kinds.includes(principal.kind)) {
      throw await this.refuse(input, principal, classification, traceId, started, {
        ruleId: CONTRACT_KINDS,
        reason: 'principal_kind_not_allowed',
      });
    }
    let traits: readonly string[] = principal.traits;
    if (principal.kind === 'plugin') {
      const entry = this.plugins.get(principal.id);
      if (entry?.status !== 'active') {
        throw await this.refuse(input, principal, classification, traceId, started, {
          ruleId: PLUGIN_STATUS,
          reason: `plugin_${entry?.status ?? 'unknown'}`,
          code: ErrorCode.PluginInactive,
        });
      }
      traits = entry.traits;
    }
    if (access.anyTrait && access.anyTrait.length > 0 && !access.anyTrait.some((t) => traits.includes(t))) {
      throw await this.refuse(input, principal, classification, traceId, started, {
        ruleId: CONTRACT_TRAITS,
        reason: 'trait_missing',
      });
    }

    const policyInput = this.inputFor(access.action, principal, traits, classification, input);
    const decision = this.decider.decide(policyInput);
    this.metrics?.policyDecision(decision.effect, decision.ruleId, (performance.now() - started) / 1000);
    if (decision.effect === 'deny') {
      if (decision.reason === 'unknown_action' && !this.unknownActions.has(access.action)) {
        this.unknownActions.add(access.action);
        this.log.error(
          { action: access.action, subject: input.subject },
          'contract names an action the policy engine does not know: every call is denied',
        );
      }
      const auditId = await this.auditDeny(input, principal, classification, traceId, decision);
      this.log.info(
        {
          subject: input.subject,
          principal: { kind: principal.kind, id: principal.id },
          ruleId: decision.ruleId,
          reason: decision.reason,
          auditId,
        },
        'access denied',
      );
      throw new VivifiedError(ErrorCode.PolicyDenied, 'access denied', {
        reason: decision.reason,
        ...(auditId === undefined ? {} : { auditId }),
      });
    }
    await this.auditAllow(input, principal, classification, traceId, decision);
    const payload =
      decision.effect === 'sanitize' ? redactFields(input.payload, decision.redactFields) : input.payload;

    return { principal: { ...principal, traits: [...traits] }, payload };
  }

  /**
   * The first step of {@link authorize} for a public contract that authenticates its caller itself (identity's TOTP
   * setup/enable with a bearer): verifies the bearer token (none: `UNAUTHENTICATED` `token_missing`) and refuses a
   * user token revoked or of a deactivated user with `UNAUTHENTICATED` `token_revoked`, audited as {@link authorize}
   * audits it (with `action`); `UNAVAILABLE` while the revocations are not loaded. No contract check, no decision.
   */
  async authenticate(input: AuthenticationInput): Promise<VerifiedToken> {
    const verified = await this.verify(input.subject, input.headers);
    if (verified.principal.kind === 'user') {
      const guard: GuardInput = {
        subject: input.subject,
        headers: input.headers,
        access: { action: input.action },
        classification: [],
        payload: undefined,
      };
      await this.assertUserTokenStands(
        guard,
        verified.principal,
        verified.claims.iat,
        [],
        traceIdOf(guard),
        performance.now(),
      );
    }

    return verified;
  }

  private async verify(subject: string, headers: MsgHdrs | undefined): Promise<VerifiedToken> {
    const token = bearerToken(headers);
    if (!token) {
      throw invalidToken('token_missing');
    }
    try {
      return await this.verifier.verify(token);
    } catch (error) {
      this.log.debug({ subject, reason: (error as { reason?: string }).reason }, 'token refused');
      throw error;
    }
  }

  /**
   * A user token is refused when identity revoked the user's tokens after it was issued (`iat` before the user's
   * `validAfter`) or deactivated the user: `UNAUTHENTICATED` `token_revoked`, audited like every refusal. While
   * the revocations are not loaded yet the call is `UNAVAILABLE` (retryable), never let through.
   */
  private async assertUserTokenStands(
    input: GuardInput,
    principal: Principal,
    issuedAt: number,
    classification: Classification[],
    traceId: string | undefined,
    started: number,
  ): Promise<void> {
    const standing = this.sessions.standing(principal.id, issuedAt);
    if (standing === 'valid') {
      return;
    }
    if (standing === 'unavailable') {
      throw new VivifiedError(ErrorCode.Unavailable, 'session revocations not loaded yet', {
        reason: 'revocations_unavailable',
      });
    }
    throw await this.refuse(input, principal, classification, traceId, started, {
      ruleId: standing === 'user_inactive' ? USER_INACTIVE : USER_TOKEN_REVOKED,
      reason: 'token_revoked' satisfies TokenRejection,
      code: ErrorCode.Unauthenticated,
    });
  }

  private inputFor(
    action: string,
    principal: Principal,
    traits: readonly string[],
    classification: Classification[],
    guard: GuardInput,
  ): PolicyInput {
    const base: PolicyInput = {
      action,
      principal: { kind: principal.kind, id: principal.id, traits, status: 'active' },
      resource: resourceOf(action, guard.payload),
      classification,
      now: this.now(),
    };
    const enricher = this.enrichers.get(action);
    if (enricher === undefined) {
      return base;
    }
    const enriched = enricher(base, { subject: guard.subject, payload: guard.payload, principal });

    return {
      ...enriched,
      action: base.action,
      principal: base.principal,
      classification: base.classification,
      now: base.now,
    };
  }

  /** Audits and builds the error of a refusal the sidecar makes before the engine. */
  private async refuse(
    input: GuardInput,
    principal: Principal,
    classification: Classification[],
    traceId: string | undefined,
    started: number,
    refusal: { ruleId: string; reason: string; code?: ErrorCode },
  ): Promise<VivifiedError> {
    const decision: Refusal = {
      effect: 'deny',
      ruleId: refusal.ruleId,
      reason: refusal.reason,
      bundleVersion: this.decider.bundleVersion,
    };
    this.metrics?.policyDecision('deny', refusal.ruleId, (performance.now() - started) / 1000);
    const auditId = await this.auditDeny(input, principal, classification, traceId, decision);
    this.log.info(
      {
        subject: input.subject,
        principal: { kind: principal.kind, id: principal.id },
        ruleId: refusal.ruleId,
        reason: refusal.reason,
        auditId,
      },
      'access denied',
    );
    const code = refusal.code ?? ErrorCode.PolicyDenied;

    return new VivifiedError(
      code,
      code === ErrorCode.PluginInactive
        ? 'plugin not active'
        : code === ErrorCode.Unauthenticated
          ? 'invalid token'
          : 'access denied',
      {
        reason: refusal.reason,
        ...(auditId === undefined ? {} : { auditId }),
      },
    );
  }

  /** Writes the record of a deny; a deny stands even when the record cannot be written (no audit id then). */
  private async auditDeny(
    input: GuardInput,
    principal: Principal,
    classification: Classification[],
    traceId: string | undefined,
    decision: Refusal | PolicyDecision,
  ): Promise<string | undefined> {
    try {
      const record = await this.audit.emit(this.record(input, principal, classification, traceId, decision));

      return record.id;
    } catch (error) {
      this.log.error({ err: error, subject: input.subject }, 'decision audit failed');

      return undefined;
    }
  }

  /** Writes the record of an allow on PHI/PII or audited `detailed`; waits for it, and fails closed, on PHI. */
  private async auditAllow(
    input: GuardInput,
    principal: Principal,
    classification: Classification[],
    traceId: string | undefined,
    decision: PolicyDecision,
  ): Promise<void> {
    const sensitive = classification.includes('phi') || classification.includes('pii');
    if (!sensitive && decision.auditLevel !== 'detailed') {
      return;
    }
    const emitted = this.audit.emit(this.record(input, principal, classification, traceId, decision));
    if (classification.includes('phi')) {
      // a PHI action does not run without its audit record (ARCHITECTURE §3): the emitter's refusal propagates
      await emitted;

      return;
    }
    emitted.catch((error: unknown) => {
      this.log.error({ err: error, subject: input.subject }, 'decision audit failed');
    });
  }

  private record(
    input: GuardInput,
    principal: Principal,
    classification: Classification[],
    traceId: string | undefined,
    decision: Refusal | PolicyDecision,
  ): DecisionAuditInput {
    const access = input.access;
    const effect: PolicyEffect = decision.effect;
    const details: Record<string, unknown> = {
      action: access.public === true ? '' : access.action,
      effect,
      ruleId: decision.ruleId,
      reason: decision.reason,
      bundleVersion: decision.bundleVersion,
      subject: input.subject,
      ...(traceId === undefined ? {} : { traceId }),
    };
    if ('redactFields' in decision && decision.effect === 'sanitize') {
      details.redactedFields = [...decision.redactFields];
    }
    if ('grantId' in decision && decision.grantId !== undefined) {
      details.grantId = decision.grantId;
    }

    return {
      category: 'policy',
      action: 'policy.decide',
      outcome: effect === 'deny' ? 'denied' : 'success',
      actor: { kind: principal.kind, id: `${principal.kind}:${principal.id}` },
      ...(principal.kind === 'plugin' ? { pluginId: principal.id } : {}),
      classification,
      details,
    };
  }
}
