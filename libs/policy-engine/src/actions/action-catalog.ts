import type { PrincipalKind } from '@vivified/contracts';

/** The resource types of the action vocabulary. */
export const resourceTypes = [
  'account',
  'audit',
  'config',
  'events',
  'keys',
  'plugin_credentials',
  'plugins',
  'policy',
  'proxy',
  'roles',
  'rpc',
  'traits',
  'ui_feature',
  'users',
] as const;

/** One resource type. */
export type ResourceType = (typeof resourceTypes)[number];

/**
 * How an action is granted (the rules that can turn a request into an allow; without one it is denied):
 * - `traits`: the principal holds one of `anyOf` (effective traits);
 * - `self`: a user acting on its own account;
 * - `any_principal`: any active principal of an allowed kind (reading the vocabulary, the role list);
 * - `core_service`: a core service (kind `service` with `system_core`);
 * - `own_plugin`: a plugin acting on itself (`resource.id`), or a user holding one of `anyOf`;
 * - `operator`, `proxy`, `ui_feature`, `event_publish`, `event_subscription`, `event_delivery`: lane rules.
 */
export type GrantSpec =
  | { readonly kind: 'traits'; readonly anyOf: readonly string[] }
  | { readonly kind: 'own_plugin'; readonly anyOf: readonly string[] }
  | {
      readonly kind:
        | 'self'
        | 'any_principal'
        | 'core_service'
        | 'operator'
        | 'proxy'
        | 'ui_feature'
        | 'event_publish'
        | 'event_subscription'
        | 'event_delivery';
    };

/** One action of the vocabulary. */
export interface ActionSpec {
  /** The action name as callers send it. */
  readonly action: string;
  /** The resource type the input must name. */
  readonly resource: ResourceType;
  /** The verb on that resource. */
  readonly verb: string;
  /** Who may ask at all. */
  readonly kinds: readonly PrincipalKind[];
  /** The grant rule. */
  readonly grant: GrantSpec;
  /** Sensitive administration: decisions are audited `detailed`. */
  readonly detailed: boolean;
  /** A plugin-to-plugin flow where PII can be stripped (`sanitize`) instead of denied. */
  readonly sanitizable: boolean;
  /** Needs both `source` and `target`. */
  readonly needsParties: boolean;
  /** One line for docs/policy.md. */
  readonly description: string;
}

type VerbSpec = Omit<
  ActionSpec,
  'action' | 'resource' | 'verb' | 'detailed' | 'sanitizable' | 'needsParties'
> & {
  detailed?: boolean;
  sanitizable?: boolean;
  needsParties?: boolean;
};

const USER: readonly PrincipalKind[] = ['user'];
const PLUGIN: readonly PrincipalKind[] = ['plugin'];
const SERVICE: readonly PrincipalKind[] = ['service'];
const ANYONE: readonly PrincipalKind[] = ['user', 'plugin', 'service'];

const traits = (anyOf: readonly string[]): GrantSpec => ({ kind: 'traits', anyOf });

const POLICY_READERS = ['admin', 'security_admin', 'compliance_officer'];

/** The generic `<resource>.<verb>` vocabulary with its grant rules. */
const VERBS: Readonly<Record<ResourceType, Readonly<Record<string, VerbSpec>>>> = {
  account: {
    read: { kinds: USER, grant: { kind: 'self' }, description: "The caller's own profile" },
    'password-change': {
      kinds: USER,
      grant: { kind: 'self' },
      description: 'Change own password',
      detailed: true,
    },
    'logout-all': {
      kinds: USER,
      grant: { kind: 'self' },
      description: 'End every own session and access token',
      detailed: true,
    },
    'mfa-disable': { kinds: USER, grant: { kind: 'self' }, description: 'Turn off own TOTP', detailed: true },
    'backup-codes': {
      kinds: USER,
      grant: { kind: 'self' },
      description: 'Replace own backup codes',
      detailed: true,
    },
    'webauthn-manage': {
      kinds: USER,
      grant: { kind: 'self' },
      description: 'Manage own passkeys',
      detailed: true,
    },
    'api-key-create': {
      kinds: USER,
      grant: { kind: 'self' },
      description: 'Create an own API key',
      detailed: true,
    },
    'api-key-list': { kinds: USER, grant: { kind: 'self' }, description: 'List own API keys' },
    'api-key-revoke': {
      kinds: USER,
      grant: { kind: 'self' },
      description: 'Revoke an own API key',
      detailed: true,
    },
  },
  audit: {
    read: { kinds: USER, grant: traits(['audit_viewer']), description: 'Query the audit trail' },
    export: {
      kinds: USER,
      grant: traits(['audit_viewer']),
      description: 'Export the audit trail',
      detailed: true,
    },
    verify: { kinds: USER, grant: traits(['audit_viewer']), description: 'Verify the hash chain' },
    report: { kinds: USER, grant: traits(['audit_viewer']), description: 'Compliance report' },
  },
  config: {
    read: {
      kinds: USER,
      grant: traits(['config_manager', 'viewer']),
      description: 'Read platform configuration',
    },
    write: {
      kinds: USER,
      grant: traits(['config_manager']),
      description: 'Change configuration',
      detailed: true,
    },
    delete: {
      kinds: USER,
      grant: traits(['config_manager']),
      description: 'Remove configuration',
      detailed: true,
    },
  },
  events: {
    publish: {
      kinds: ['plugin', 'service'],
      grant: { kind: 'event_publish' },
      description: 'Publish a canonical event (source = the caller)',
    },
    subscribe: {
      kinds: PLUGIN,
      grant: { kind: 'event_subscription' },
      description: 'Subscribe oneself to events',
    },
    unsubscribe: { kinds: PLUGIN, grant: { kind: 'event_subscription' }, description: 'Unsubscribe oneself' },
    deliver: {
      kinds: SERVICE,
      grant: { kind: 'event_delivery' },
      description: 'Deliver a stored event from its source plugin to a subscriber',
      sanitizable: true,
      needsParties: true,
    },
  },
  keys: {
    rotate: {
      kinds: USER,
      grant: traits(['security_admin']),
      description: 'Rotate the signing key',
      detailed: true,
    },
  },
  plugin_credentials: {
    issue: { kinds: SERVICE, grant: { kind: 'core_service' }, description: "Issue a plugin's client secret" },
    revoke: {
      kinds: SERVICE,
      grant: { kind: 'core_service' },
      description: "Revoke a plugin's client secret",
    },
  },
  plugins: {
    list: { kinds: USER, grant: traits(['plugin_manager', 'viewer']), description: 'List plugins' },
    read: { kinds: USER, grant: traits(['plugin_manager', 'viewer']), description: 'Read one plugin' },
    validate: { kinds: USER, grant: traits(['plugin_manager']), description: 'Validate a manifest' },
    register: {
      kinds: USER,
      grant: traits(['plugin_manager']),
      description: 'Register a plugin',
      detailed: true,
    },
    approve: {
      kinds: USER,
      grant: traits(['plugin_manager']),
      description: 'Approve a plugin',
      detailed: true,
    },
    enable: {
      kinds: USER,
      grant: traits(['plugin_manager']),
      description: 'Enable a plugin',
      detailed: true,
    },
    disable: {
      kinds: USER,
      grant: traits(['plugin_manager']),
      description: 'Disable a plugin',
      detailed: true,
    },
    delete: {
      kinds: USER,
      grant: traits(['plugin_manager']),
      description: 'Remove a plugin',
      detailed: true,
    },
    'config-read': {
      kinds: ['user', 'plugin'],
      grant: { kind: 'own_plugin', anyOf: ['plugin_manager'] },
      description: "Read a plugin's config (the plugin itself, or a plugin manager)",
    },
    'config-write': {
      kinds: USER,
      grant: traits(['plugin_manager']),
      description: "Change a plugin's config",
      detailed: true,
    },
    heartbeat: {
      kinds: PLUGIN,
      grant: { kind: 'own_plugin', anyOf: [] },
      description: 'Heartbeat of the plugin itself',
    },
    'nats-credentials-renew': {
      kinds: PLUGIN,
      grant: { kind: 'own_plugin', anyOf: [] },
      description: 'Renew its own NATS user credentials',
    },
    'registration-token-create': {
      kinds: USER,
      grant: traits(['admin']),
      description: 'Create a one-time plugin registration token',
      detailed: true,
    },
  },
  policy: {
    read: { kinds: USER, grant: traits(POLICY_READERS), description: 'Read the admin rules' },
    simulate: {
      kinds: USER,
      grant: traits(POLICY_READERS),
      description: 'What-if decision with the rule trail',
    },
    write: {
      kinds: USER,
      grant: traits(['admin', 'security_admin']),
      description: 'Replace the admin rules',
      detailed: true,
    },
    decide: {
      kinds: SERVICE,
      grant: { kind: 'core_service' },
      description: 'Remote decision for a core service',
    },
  },
  proxy: {
    request: {
      kinds: PLUGIN,
      grant: { kind: 'proxy' },
      description: 'Egress through the proxy lane (external_service + an approval for context.domain)',
    },
  },
  roles: {
    list: { kinds: USER, grant: { kind: 'any_principal' }, description: 'Every role with its traits' },
  },
  rpc: {
    call: {
      kinds: ['plugin', 'service'],
      grant: { kind: 'operator' },
      description: 'Operator-lane call of context.operation on the target (allowlist rule)',
      sanitizable: true,
      needsParties: true,
    },
  },
  traits: {
    read: { kinds: ANYONE, grant: { kind: 'any_principal' }, description: 'Read the trait vocabulary' },
  },
  ui_feature: {
    view: { kinds: USER, grant: { kind: 'ui_feature' }, description: 'See a console feature (resource.id)' },
  },
  users: {
    list: { kinds: USER, grant: traits(['user_manager']), description: 'List users' },
    read: { kinds: USER, grant: traits(['user_manager']), description: 'Read one user' },
    create: { kinds: USER, grant: traits(['user_manager']), description: 'Create a user', detailed: true },
    update: { kinds: USER, grant: traits(['user_manager']), description: 'Change a user', detailed: true },
    'set-roles': {
      kinds: USER,
      grant: traits(['user_manager']),
      description: "Replace a user's roles",
      detailed: true,
    },
    unlock: { kinds: USER, grant: traits(['user_manager']), description: 'Lift a lockout', detailed: true },
    delete: {
      kinds: USER,
      grant: traits(['user_manager']),
      description: 'Deactivate a user',
      detailed: true,
    },
    'mfa-coverage': {
      kinds: ['user', 'service'],
      grant: traits(['audit_viewer', 'admin', 'system_core']),
      description: 'MFA coverage of PHI users and admins (counts, ids without MFA)',
      detailed: true,
    },
    'password-reset': {
      kinds: USER,
      grant: traits(['user_manager']),
      description: "Set another user's one-time password",
      detailed: true,
    },
    'mfa-reset': {
      kinds: USER,
      grant: traits(['user_manager']),
      description: "Remove another user's TOTP, backup codes (and passkeys)",
      detailed: true,
    },
  },
};

/**
 * Platform action names (as libs/contracts declares them on handlers) → their `<resource>.<verb>`.
 * Services may also send the generic names directly.
 */
const PLATFORM_ACTIONS: Readonly<Record<string, `${ResourceType}.${string}`>> = {
  'identity.auth.me': 'account.read',
  'identity.auth.change-password': 'account.password-change',
  'identity.auth.logout-all': 'account.logout-all',
  'identity.mfa.disable': 'account.mfa-disable',
  'identity.mfa.backup-codes': 'account.backup-codes',
  'identity.webauthn.manage': 'account.webauthn-manage',
  'identity.api-key.create': 'account.api-key-create',
  'identity.api-key.list': 'account.api-key-list',
  'identity.api-key.revoke': 'account.api-key-revoke',
  'identity.role.list': 'roles.list',
  'identity.user.list': 'users.list',
  'identity.user.read': 'users.read',
  'identity.user.create': 'users.create',
  'identity.user.update': 'users.update',
  'identity.user.set-roles': 'users.set-roles',
  'identity.user.unlock': 'users.unlock',
  'identity.user.delete': 'users.delete',
  'identity.key.rotate': 'keys.rotate',
  'identity.plugin-credential.issue': 'plugin_credentials.issue',
  'identity.plugin-credential.revoke': 'plugin_credentials.revoke',
  'policy.rule.read': 'policy.read',
  'policy.rule.write': 'policy.write',
  'policy.decision.simulate': 'policy.simulate',
  'policy.decision.decide': 'policy.decide',
  'policy.trait.list': 'traits.read',
  'registry.plugin.list': 'plugins.list',
  'registry.plugin.read': 'plugins.read',
  'registry.plugin.validate': 'plugins.validate',
  'registry.plugin.register': 'plugins.register',
  'registry.plugin.approve': 'plugins.approve',
  'registry.plugin.enable': 'plugins.enable',
  'registry.plugin.disable': 'plugins.disable',
  'registry.plugin.delete': 'plugins.delete',
  'registry.plugin-config.read': 'plugins.config-read',
  'registry.plugin-config.write': 'plugins.config-write',
  'registry.heartbeat': 'plugins.heartbeat',
  'registry.registration-token.create': 'plugins.registration-token-create',
  'registry.plugin.nats-credentials-renew': 'plugins.nats-credentials-renew',
  'audit.record.query': 'audit.read',
  'audit.record.export': 'audit.export',
  'audit.record.verify': 'audit.verify',
  'audit.report.compliance': 'audit.report',
  'policy.config.read': 'config.read',
  'policy.config.write': 'config.write',
  'events.event.publish': 'events.publish',
  'events.subscription.create': 'events.subscribe',
  'events.subscription.delete': 'events.unsubscribe',
  'events.event.deliver': 'events.deliver',
  'gateway.rpc.call': 'rpc.call',
  'gateway.proxy.request': 'proxy.request',
  'gateway.ui.view': 'ui_feature.view',
  'identity.user.mfa-coverage': 'users.mfa-coverage',
  'identity.user.password-reset': 'users.password-reset',
  'identity.user.mfa-reset': 'users.mfa-reset',
};

function build(): Map<string, ActionSpec> {
  const specs = new Map<string, ActionSpec>();
  for (const [resource, verbs] of Object.entries(VERBS) as Array<[ResourceType, Record<string, VerbSpec>]>) {
    for (const [verb, spec] of Object.entries(verbs)) {
      const action = `${resource}.${verb}`;
      specs.set(
        action,
        Object.freeze({
          action,
          resource,
          verb,
          kinds: spec.kinds,
          grant: spec.grant,
          detailed: spec.detailed ?? false,
          sanitizable: spec.sanitizable ?? false,
          needsParties: spec.needsParties ?? false,
          description: spec.description,
        }),
      );
    }
  }
  for (const [action, generic] of Object.entries(PLATFORM_ACTIONS)) {
    const base = specs.get(generic);
    if (base === undefined || specs.has(action)) {
      throw new Error(`platform action ${action} maps to unknown or clashing ${generic}`);
    }
    specs.set(action, Object.freeze({ ...base, action }));
  }

  return specs;
}

const ACTIONS = build();

/** The spec of an action; undefined for an unknown action (which is always denied). */
export function actionSpec(action: string): ActionSpec | undefined {
  return ACTIONS.get(action);
}

/** Every action of the vocabulary (generic names first, then platform names), for docs and tools. */
export function actionCatalog(): ActionSpec[] {
  return [...ACTIONS.values()];
}
