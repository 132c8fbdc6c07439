import type { Classification, PrincipalKind } from '@vivified/contracts';

/** Who asks (ARCHITECTURE §5): the verified caller with its live status. */
export interface PolicyPrincipal {
  /** `user`, `plugin` or `service` (the token's `typ`). */
  readonly kind: PrincipalKind;
  /** User uuid, plugin id or service name. */
  readonly id: string;
  /** The token's traits (aliases are resolved, unknown names ignored). */
  readonly traits: readonly string[];
  /** Live status; anything but `active` is denied. */
  readonly status: string;
}

/** What the action is about. */
export interface PolicyResource {
  /** Must equal the resource type of the action (`users` for `identity.user.create`). */
  readonly type: string;
  /** Resource id: a user id, a plugin id, a UI feature (`ui.config` or `config`). */
  readonly id?: string;
  /** The plugin that owns the resource, when one does. */
  readonly ownerPluginId?: string;
}

/** One side of a plugin-to-plugin flow with its registered (approved) traits. */
export interface PolicyParty {
  /** Plugin id (or service name for a core service). */
  readonly pluginId: string;
  /** The traits the registry approved for it (not what the caller claims). */
  readonly traits: readonly string[];
}

/**
 * Context fields the rules read. Nothing else of the context is read, so nothing else is in the cache key.
 */
export interface PolicyContext {
  /** Operator lane: the operation called on the target (`get_user`). */
  readonly operation?: string;
  /** Proxy lane: the host the request goes to (`api.example.org`). */
  readonly domain?: string;
  /** Other fields are carried for audit and ignored by the engine. */
  readonly [key: string]: unknown;
}

/** The input of a decision (ARCHITECTURE §5 contract). */
export interface PolicyInput {
  /** The action (`identity.user.create`, `users.create`, `rpc.call`, …); unknown actions are always denied. */
  readonly action: string;
  /** The caller. */
  readonly principal: PolicyPrincipal;
  /** What it acts on. */
  readonly resource: PolicyResource;
  /** Classifications of the data touched (`Vivified-Classification`). */
  readonly classification: readonly Classification[];
  /** Where data comes from in a plugin-to-plugin flow. */
  readonly source?: PolicyParty;
  /** Where data goes in a plugin-to-plugin flow. */
  readonly target?: PolicyParty;
  /** Lane details. */
  readonly context?: PolicyContext;
  /** The time of the decision in epoch milliseconds; only break-glass grants read it (absent: no grant applies). */
  readonly now?: number;
}

/** The verdict. */
export type PolicyEffect = 'allow' | 'deny' | 'sanitize';

/** How much the audit record of the decision carries. */
export type AuditLevel = 'standard' | 'detailed';

/** What one rule said; `not_applicable` appears only in a simulation. */
export interface TrailEntry {
  /** The rule. */
  readonly ruleId: string;
  /** Its verdict. */
  readonly effect: PolicyEffect | 'not_applicable';
  /** Its reason code. */
  readonly reason: string;
}

/** The output of a decision (ARCHITECTURE §5 contract). Decisions are frozen and may be shared by the cache. */
export interface PolicyDecision {
  /** allow, deny or sanitize (allow after stripping {@link redactFields}). */
  readonly effect: PolicyEffect;
  /** The rule that decided (`break_glass` when a grant opened the data). */
  readonly ruleId: string;
  /** Machine-readable reason (`phi_trait_missing`, `default_deny`, …). */
  readonly reason: string;
  /** On deny: the traits the deciding rule asks for. Empty otherwise. */
  readonly requiredTraits: readonly string[];
  /** On sanitize: the payload fields to strip before the handler or target sees the message. */
  readonly redactFields: readonly string[];
  /** `detailed` for PHI/PII, break-glass, sanitize and sensitive administration. */
  readonly auditLevel: AuditLevel;
  /** The bundle the decision was made with. */
  readonly bundleVersion: number;
  /** The rules that spoke, in evaluation order; a simulation lists every rule evaluated. */
  readonly trail: readonly TrailEntry[];
  /** The break-glass grant that opened the data, when one did. */
  readonly grantId?: string;
}
