import type { PrincipalKind } from '@vivified/contracts';

/** The categories of the trait vocabulary (the predecessor's eight). */
export const traitCategories = [
  'role',
  'capability',
  'data_access',
  'ui_feature',
  'plugin_type',
  'security',
  'compliance',
  'system',
] as const;

/** One category of the trait vocabulary. */
export type TraitCategory = (typeof traitCategories)[number];

/** Where a trait comes from: the predecessor's registry, or a name its code used without defining it. */
export type TraitOrigin = 'vocabulary' | 'used_undefined';

/** One trait of the vocabulary, as the registry answers it. */
export interface TraitDefinition {
  /** The trait name as tokens and manifests spell it (`handles_phi`, `ui.config`). */
  readonly name: string;
  /** Its category. */
  readonly category: TraitCategory;
  /** One sentence of what holding it means. */
  readonly description: string;
  /** Label in the admin console. */
  readonly uiLabel: string;
  /** Material icon name in the admin console. */
  readonly uiIcon: string;
  /** Grants access to sensitive data or to the platform's administration. */
  readonly sensitive: boolean;
  /** A legacy name kept only as an alias of {@link aliasOf}; never stored, always resolved. */
  readonly legacy: boolean;
  /** For a legacy name: the real trait it resolves to. */
  readonly aliasOf?: string;
  /** Every one of these must be held too (validation) and present for the trait to take effect (decisions). */
  readonly requires: readonly string[];
  /** At least one of these must be held too; empty means no such requirement. */
  readonly requiresAnyOf: readonly string[];
  /** None of these may be held together with it (symmetric: each side lists the other). */
  readonly conflicts: readonly string[];
  /** The kinds of principal that may hold it; any other kind holding it is a `blocked` violation. */
  readonly holders: readonly PrincipalKind[];
  /** Where the name comes from. */
  readonly origin: TraitOrigin;
}

type Spec = Omit<
  TraitDefinition,
  'name' | 'legacy' | 'conflicts' | 'requires' | 'requiresAnyOf' | 'origin'
> & {
  requires?: readonly string[];
  requiresAnyOf?: readonly string[];
  origin?: TraitOrigin;
};

const USER: readonly PrincipalKind[] = ['user'];
const PLUGIN: readonly PrincipalKind[] = ['plugin'];
const SERVICE: readonly PrincipalKind[] = ['service'];
const ANYONE: readonly PrincipalKind[] = ['user', 'plugin', 'service'];
const USER_OR_PLUGIN: readonly PrincipalKind[] = ['user', 'plugin'];

/** Role traits that a capability may stand on (ARCHITECTURE §4 default roles). */
const AUDIT_ROLES = ['admin', 'operator', 'security_admin', 'compliance_officer'];

const role = (description: string, uiLabel: string, uiIcon: string, extra: Partial<Spec> = {}): Spec => ({
  category: 'role',
  description,
  uiLabel,
  uiIcon,
  sensitive: false,
  holders: USER,
  ...extra,
});

const capability = (
  description: string,
  uiLabel: string,
  uiIcon: string,
  extra: Partial<Spec> = {},
): Spec => ({
  category: 'capability',
  description,
  uiLabel,
  uiIcon,
  sensitive: false,
  holders: USER,
  ...extra,
});

const ui = (description: string, uiLabel: string, uiIcon: string, requires: Partial<Spec>): Spec => ({
  category: 'ui_feature',
  description,
  uiLabel,
  uiIcon,
  sensitive: false,
  holders: USER,
  ...requires,
});

const pluginType = (description: string, uiLabel: string, uiIcon: string): Spec => ({
  category: 'plugin_type',
  description,
  uiLabel,
  uiIcon,
  sensitive: false,
  holders: PLUGIN,
});

/**
 * The vocabulary: the predecessor's 52 real traits (its 54 less the two legacy aliases, which follow below),
 * plus the names its code used without defining them (`security_admin`, `compliance_officer`,
 * `hipaa_covered_entity`). Differences from the predecessor's table are deliberate and listed in docs/policy.md.
 */
const SPECS: Readonly<Record<string, Spec>> = {
  // role
  admin: role(
    'Full system administration access (no PHI access by itself)',
    'Administrator',
    'admin_panel_settings',
    {
      sensitive: true,
    },
  ),
  viewer: role('Read-only access to system resources', 'Viewer', 'visibility'),
  developer: role('Plugin development and testing access', 'Developer', 'code', { requires: ['viewer'] }),
  operator: role('System operations and monitoring', 'Operator', 'settings', { requires: ['viewer'] }),
  security_admin: role(
    'Security administration: signing keys, sessions, policy',
    'Security Administrator',
    'shield',
    {
      sensitive: true,
      origin: 'used_undefined',
    },
  ),
  compliance_officer: role(
    'Compliance review: audit trail, reports and policy',
    'Compliance Officer',
    'verified_user',
    {
      sensitive: true,
      origin: 'used_undefined',
    },
  ),

  // capability
  config_manager: capability('Can modify system configuration', 'Configuration Manager', 'tune', {
    requires: ['admin'],
  }),
  handles_notifications: capability(
    'Can handle notification events and sends',
    'Notifications Handler',
    'notifications',
    {
      holders: PLUGIN,
    },
  ),
  notification_manager: capability(
    'Can manage notifications, inbox, and sends',
    'Notification Manager',
    'notifications_active',
    { requires: ['admin'] },
  ),
  plugin_manager: capability('Can manage plugins and extensions', 'Plugin Manager', 'extension', {
    requiresAnyOf: ['admin', 'operator'],
  }),
  user_manager: capability('Can manage users and roles', 'User Manager', 'people', {
    requires: ['admin'],
    sensitive: true,
  }),
  audit_viewer: capability('Can view audit logs and system events', 'Audit Viewer', 'description', {
    requiresAnyOf: AUDIT_ROLES,
  }),
  system_monitor: capability('Can monitor system health and metrics', 'System Monitor', 'monitor', {
    requiresAnyOf: ['operator', 'admin'],
  }),

  // data_access
  handles_phi: {
    category: 'data_access',
    description: 'Can process Protected Health Information',
    uiLabel: 'PHI Handler',
    uiIcon: 'health_and_safety',
    sensitive: true,
    holders: ANYONE,
    requires: ['audit_required'],
  },
  handles_pii: {
    category: 'data_access',
    description: 'Can process Personally Identifiable Information',
    uiLabel: 'PII Handler',
    uiIcon: 'person',
    sensitive: true,
    holders: ANYONE,
    requires: ['audit_required'],
  },
  handles_confidential: {
    category: 'data_access',
    description: 'Can process confidential business data',
    uiLabel: 'Confidential Data Handler',
    uiIcon: 'lock',
    sensitive: true,
    holders: ANYONE,
  },
  handles_public: {
    category: 'data_access',
    description: 'Can process public data only',
    uiLabel: 'Public Data Handler',
    uiIcon: 'public',
    sensitive: false,
    holders: ANYONE,
  },

  // ui_feature: granted when the requirements are met (see uiTraitsFor)
  'ui.admin': ui('Access to admin interface', 'Admin UI', 'admin_panel_settings', { requires: ['admin'] }),
  'ui.automations': ui('Access to automations (rules & flows)', 'Automations', 'bolt', {
    requires: ['user_manager'],
  }),
  'ui.notifications': ui('Access to notifications surfaces', 'Notifications', 'notifications', {
    requires: ['notification_manager'],
  }),
  'ui.notifications_inbox': ui('Access to notifications inbox', 'Notifications Inbox', 'inbox', {
    requires: ['notification_manager'],
  }),
  'ui.notifications_send': ui('Access to notifications send', 'Send Notification', 'send', {
    requires: ['notification_manager'],
  }),
  'ui.config': ui('Access to configuration interface', 'Configuration UI', 'tune', {
    requires: ['config_manager'],
  }),
  'ui.plugins': ui('Access to plugin management interface', 'Plugin Management UI', 'extension', {
    requires: ['plugin_manager'],
  }),
  'ui.audit': ui('Access to audit log interface', 'Audit UI', 'description', { requires: ['audit_viewer'] }),
  'ui.users': ui('Access to user management interface', 'User Management UI', 'people', {
    requires: ['user_manager'],
  }),
  'ui.monitoring': ui('Access to monitoring and diagnostics', 'Monitoring UI', 'monitor', {
    requires: ['system_monitor'],
  }),
  'ui.terminal': ui('Access to system terminal', 'Terminal Access', 'terminal', {
    requires: ['admin', 'developer'],
  }),
  'ui.gateway': ui('Access to gateway proxy tools', 'Gateway Tools', 'api', { requires: ['admin'] }),
  'ui.messaging': ui('Access to messaging/event bus tools', 'Messaging Tools', 'message', {
    requires: ['admin'],
  }),
  'ui.canonical': ui('Access to canonical model tools', 'Canonical Tools', 'account_tree', {
    requires: ['admin'],
  }),
  'ui.policy': ui('Access to policy/traits inspector', 'Policy Inspector', 'policy', {
    requiresAnyOf: ['admin', 'security_admin', 'compliance_officer'],
  }),
  'ui.plugin_dev_guide': ui('Access to Plugin Development Guide', 'Plugin Dev Guide', 'menu_book', {
    requires: ['developer'],
  }),
  'ui.register': ui('Access to plugin registration', 'Register Plugin', 'app_registration', {
    requires: ['plugin_manager'],
  }),
  'ui.storage': ui('Access to storage browser', 'Storage', 'folder', { requires: ['admin'] }),
  'ui.send_demo': ui('Access to demo send flow', 'Demo Send', 'send', { requires: ['admin'] }),
  'ui.inbound_demo': ui('Access to inbound demo view', 'Inbound Demo', 'inbox', { requires: ['admin'] }),
  'ui.jobs': ui('Access to jobs view', 'Jobs', 'list', { requires: ['system_monitor'] }),
  'ui.dashboard': ui('Access to dashboard', 'Dashboard', 'dashboard', { requires: ['viewer'] }),

  // plugin_type
  communication_plugin: pluginType(
    'Handles communication (email, SMS, etc.)',
    'Communication Plugin',
    'message',
  ),
  storage_plugin: pluginType('Handles data storage and retrieval', 'Storage Plugin', 'storage'),
  identity_plugin: pluginType('Handles user identity and authentication', 'Identity Plugin', 'person'),
  integration_plugin: pluginType(
    'Integrates with external services',
    'Integration Plugin',
    'integration_instructions',
  ),
  workflow_plugin: pluginType('Handles business workflows', 'Workflow Plugin', 'workflow'),

  // security
  audit_required: {
    category: 'security',
    description: 'All actions must be audited',
    uiLabel: 'Audit Required',
    uiIcon: 'audit',
    sensitive: false,
    holders: USER_OR_PLUGIN,
  },
  encryption_required: {
    category: 'security',
    description: 'Data must be encrypted',
    uiLabel: 'Encryption Required',
    uiIcon: 'lock',
    sensitive: false,
    holders: USER_OR_PLUGIN,
  },
  requires_config: {
    category: 'security',
    description: 'Plugin requires configuration before activation',
    uiLabel: 'Requires Configuration',
    uiIcon: 'build',
    sensitive: false,
    holders: PLUGIN,
  },
  external_service: {
    category: 'security',
    description: 'Connects to external services',
    uiLabel: 'External Service',
    uiIcon: 'cloud',
    sensitive: false,
    holders: PLUGIN,
  },
  network_isolated: {
    category: 'security',
    description: 'Requires network isolation',
    uiLabel: 'Network Isolated',
    uiIcon: 'network_check',
    sensitive: false,
    holders: PLUGIN,
  },

  // compliance
  hipaa_compliant: {
    category: 'compliance',
    description: 'HIPAA compliance required',
    uiLabel: 'HIPAA Compliant',
    uiIcon: 'health_and_safety',
    sensitive: false,
    holders: PLUGIN,
    requires: ['handles_phi', 'audit_required', 'encryption_required'],
  },
  gdpr_compliant: {
    category: 'compliance',
    description: 'GDPR compliance required',
    uiLabel: 'GDPR Compliant',
    uiIcon: 'gavel',
    sensitive: false,
    holders: PLUGIN,
    requires: ['handles_pii', 'audit_required'],
  },
  soc2_compliant: {
    category: 'compliance',
    description: 'SOC2 compliance required',
    uiLabel: 'SOC2 Compliant',
    uiIcon: 'security',
    sensitive: false,
    holders: PLUGIN,
    requires: ['audit_required', 'encryption_required'],
  },
  hipaa_covered_entity: {
    category: 'compliance',
    description: 'Operates for a HIPAA covered entity (its data is PHI under a BAA)',
    uiLabel: 'HIPAA Covered Entity',
    uiIcon: 'local_hospital',
    sensitive: false,
    holders: PLUGIN,
    requires: ['hipaa_compliant'],
    origin: 'used_undefined',
  },

  // system
  system_core: {
    category: 'system',
    description: 'Core system component (carried by core service tokens only)',
    uiLabel: 'Core System',
    uiIcon: 'settings',
    sensitive: true,
    holders: SERVICE,
  },
  system_plugin: {
    category: 'system',
    description: 'Plugin component',
    uiLabel: 'Plugin',
    uiIcon: 'extension',
    sensitive: false,
    holders: PLUGIN,
  },
};

/**
 * Conflicting pairs; each side lists the other. A plugin that is network isolated cannot reach out, and data
 * handled as public cannot also be PHI, PII or confidential; a component is core or plugin, never both.
 */
const CONFLICT_PAIRS: ReadonlyArray<readonly [string, string]> = [
  ['network_isolated', 'external_service'],
  ['handles_public', 'handles_phi'],
  ['handles_public', 'handles_pii'],
  ['handles_public', 'handles_confidential'],
  ['system_core', 'system_plugin'],
];

/** Legacy names and names the predecessor used for a real trait: each resolves to that trait. */
const ALIASES: ReadonlyArray<{ name: string; aliasOf: string; uiLabel: string; origin: TraitOrigin }> = [
  { name: 'phi_handler', aliasOf: 'handles_phi', uiLabel: 'PHI Handler (Legacy)', origin: 'vocabulary' },
  { name: 'pii_processor', aliasOf: 'handles_pii', uiLabel: 'PII Processor (Legacy)', origin: 'vocabulary' },
  { name: 'pii_handler', aliasOf: 'handles_pii', uiLabel: 'PII Handler (Legacy)', origin: 'used_undefined' },
  {
    name: 'hipaa_authorized',
    aliasOf: 'handles_phi',
    uiLabel: 'HIPAA Authorized (Legacy)',
    origin: 'used_undefined',
  },
  {
    name: 'hipaa_cleared',
    aliasOf: 'handles_phi',
    uiLabel: 'HIPAA Cleared (Legacy)',
    origin: 'used_undefined',
  },
  { name: 'pii_cleared', aliasOf: 'handles_pii', uiLabel: 'PII Cleared (Legacy)', origin: 'used_undefined' },
];

/**
 * Words that are never traits and that no manifest may claim: the predecessor's dangerous manifest traits
 * (`system`, `root`), `authenticated` (a state every principal is in, not a grant) and `super_admin` (a role the
 * platform does not have).
 */
export const reservedTraitWords: readonly string[] = Object.freeze([
  'system',
  'root',
  'authenticated',
  'super_admin',
]);

function build(): TraitDefinition[] {
  const conflicts = new Map<string, string[]>();
  for (const [a, b] of CONFLICT_PAIRS) {
    conflicts.set(a, [...(conflicts.get(a) ?? []), b]);
    conflicts.set(b, [...(conflicts.get(b) ?? []), a]);
  }
  const real = Object.entries(SPECS).map(
    ([name, spec]): TraitDefinition =>
      Object.freeze({
        name,
        category: spec.category,
        description: spec.description,
        uiLabel: spec.uiLabel,
        uiIcon: spec.uiIcon,
        sensitive: spec.sensitive,
        legacy: false,
        requires: Object.freeze([...(spec.requires ?? [])]),
        requiresAnyOf: Object.freeze([...(spec.requiresAnyOf ?? [])]),
        conflicts: Object.freeze([...(conflicts.get(name) ?? [])].sort()),
        holders: spec.holders,
        origin: spec.origin ?? 'vocabulary',
      }),
  );
  const legacy = ALIASES.map(({ name, aliasOf, uiLabel, origin }): TraitDefinition => {
    const target = SPECS[aliasOf];

    return Object.freeze({
      name,
      category: target.category,
      description: `Legacy alias of ${aliasOf}`,
      uiLabel,
      uiIcon: target.uiIcon,
      sensitive: target.sensitive,
      legacy: true,
      aliasOf,
      requires: Object.freeze([]),
      requiresAnyOf: Object.freeze([]),
      conflicts: Object.freeze([]),
      holders: target.holders,
      origin,
    });
  });

  return [...real, ...legacy];
}

/** Every trait record, real ones first, then the legacy aliases; frozen. */
export const traitDefinitions: readonly TraitDefinition[] = Object.freeze(build());
