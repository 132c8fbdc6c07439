import { describe, expect, it } from 'vitest';

import type { PolicyInput } from '../policy-types';
import type { Row } from '../testing/engine-table';
import {
  AFTER_GRANT,
  deliver,
  ENGINE_RULES,
  IN_GRANT,
  itDecidesEachRow,
  proxy,
  rpc,
} from '../testing/engine-table';
import {
  bundle,
  input,
  PHI_SET,
  PII_SET,
  plugin,
  roleTraits,
  service,
  user,
  USER_ID,
  withRequirements,
} from '../testing/policy.fixtures';
import { traitRegistry } from '../traits/trait-registry';
import { PolicyEngine } from './policy-engine';
import { piiRedactFields } from './rule-ids';

const sut = new PolicyEngine(bundle(ENGINE_RULES));

/** Vocabulary, input, status, resource rules, classification and break-glass (lanes: policy-lanes.spec.ts). */
const TABLE: Row[] = [
  // vocabulary, input, status
  [
    'unknown action',
    input('identity.user.explode', user(roleTraits.admin)),
    'deny',
    'action_vocabulary',
    'unknown_action',
  ],
  ['empty action', input('', user(roleTraits.admin)), 'deny', 'action_vocabulary', 'unknown_action'],
  [
    'resource of another type',
    input('identity.user.create', user(roleTraits.admin), { resource: { type: 'plugins' } }),
    'deny',
    'resource_type',
    'resource_mismatch',
  ],
  [
    'malformed input',
    { ...input('users.read', user(roleTraits.admin)), principal: null } as unknown as PolicyInput,
    'deny',
    'input',
    'invalid_input',
  ],
  [
    'traits not a list',
    input('users.read', user('admin' as unknown as string[])),
    'deny',
    'input',
    'invalid_input',
  ],
  [
    'unknown classification',
    input('users.read', user(roleTraits.admin), { classification: ['secret' as 'phi'] }),
    'deny',
    'classification',
    'unknown_classification',
  ],
  [
    'locked user',
    input('account.read', user([], { status: 'locked' })),
    'deny',
    'principal_status',
    'principal_inactive',
  ],
  [
    'pending plugin',
    input('traits.read', plugin('p-one', [], 'pending_approval')),
    'deny',
    'principal_status',
    'principal_inactive',
  ],
  [
    'disabled plugin',
    input('traits.read', plugin('p-one', [], 'disabled')),
    'deny',
    'principal_status',
    'principal_inactive',
  ],
  [
    'revoked plugin',
    input('traits.read', plugin('p-one', [], 'revoked')),
    'deny',
    'principal_status',
    'principal_inactive',
  ],
  [
    'active plugin',
    input('traits.read', plugin('p-one', [])),
    'allow',
    'any_principal',
    'authenticated_principal',
  ],
  [
    'empty status',
    input('traits.read', plugin('p-one', [], '')),
    'deny',
    'principal_status',
    'principal_inactive',
  ],

  // kinds no rule covers → default deny
  [
    'plugin managing users',
    input('users.create', plugin('p-one', ['handles_pii'])),
    'deny',
    'default_deny',
    'default_deny',
  ],
  [
    'plugin reading an account',
    input('identity.auth.me', plugin('p-one', [])),
    'deny',
    'default_deny',
    'default_deny',
  ],
  [
    'user subscribing to events',
    input('events.subscribe', user(roleTraits.admin)),
    'deny',
    'default_deny',
    'default_deny',
  ],
  [
    'user issuing plugin credentials',
    input('identity.plugin-credential.issue', user(roleTraits.admin)),
    'deny',
    'default_deny',
    'default_deny',
  ],
  [
    'user calling the proxy',
    input('proxy.request', user(roleTraits.admin), { context: { domain: 'api.example.org' } }),
    'deny',
    'default_deny',
    'default_deny',
  ],
  [
    'user with no traits at all',
    input('users.list', user([])),
    'deny',
    'capability',
    'user_manager_required',
  ],

  // users → user_manager
  [
    'admin creates a user',
    input('identity.user.create', user(roleTraits.admin)),
    'allow',
    'capability',
    'capability_present',
  ],
  [
    'admin lists users',
    input('identity.user.list', user(roleTraits.admin)),
    'allow',
    'capability',
    'capability_present',
  ],
  [
    'viewer creates a user',
    input('identity.user.create', user(roleTraits.viewer)),
    'deny',
    'capability',
    'user_manager_required',
  ],
  [
    'operator sets roles',
    input('identity.user.set-roles', user(roleTraits.operator)),
    'deny',
    'capability',
    'user_manager_required',
  ],
  [
    'user_manager without admin',
    input('users.update', user(['user_manager'])),
    'deny',
    'capability',
    'user_manager_required',
  ],

  // config → config_manager, read also viewer
  [
    'viewer reads config',
    input('config.read', user(roleTraits.viewer)),
    'allow',
    'capability',
    'capability_present',
  ],
  [
    'viewer writes config',
    input('config.write', user(roleTraits.viewer)),
    'deny',
    'capability',
    'config_manager_required',
  ],
  [
    'admin writes config',
    input('config.write', user(roleTraits.admin)),
    'allow',
    'capability',
    'capability_present',
  ],
  [
    'config_manager without admin',
    input('config.delete', user(['config_manager'])),
    'deny',
    'capability',
    'config_manager_required',
  ],
  [
    'nobody reads config',
    input('config.read', user(['developer'])),
    'deny',
    'capability',
    'config_manager_or_viewer_required',
  ],

  // plugins → plugin_manager
  [
    'operator registers a plugin',
    input('registry.plugin.register', user(roleTraits.operator)),
    'allow',
    'capability',
    'capability_present',
  ],
  [
    'viewer lists plugins',
    input('plugins.list', user(roleTraits.viewer)),
    'allow',
    'capability',
    'capability_present',
  ],
  [
    'a plugin renews its own NATS credentials, not another one',
    input('registry.plugin.nats-credentials-renew', plugin('p-one', []), {
      resource: { type: 'plugins', id: 'p-two' },
    }),
    'deny',
    'own_plugin',
    'not_own_plugin',
  ],
  [
    'an operator creates no registration token (admins only)',
    input('registry.registration-token.create', user(roleTraits.operator)),
    'deny',
    'capability',
    'admin_required',
  ],
  [
    'viewer approves a plugin',
    input('plugins.approve', user(roleTraits.viewer)),
    'deny',
    'capability',
    'plugin_manager_required',
  ],
  [
    'plugin heartbeat of itself',
    input('registry.heartbeat', plugin('p-one', []), { resource: { type: 'plugins', id: 'p-one' } }),
    'allow',
    'own_plugin',
    'own_plugin',
  ],
  [
    'plugin heartbeat of another',
    input('registry.heartbeat', plugin('p-one', []), { resource: { type: 'plugins', id: 'p-two' } }),
    'deny',
    'own_plugin',
    'not_own_plugin',
  ],
  [
    'plugin reads own config',
    input('plugins.config-read', plugin('p-one', []), { resource: { type: 'plugins', id: 'p-one' } }),
    'allow',
    'own_plugin',
    'own_plugin',
  ],
  [
    'plugin reads another config',
    input('plugins.config-read', plugin('p-one', []), {
      resource: { type: 'plugins', id: 'p-two', ownerPluginId: 'p-one' },
    }),
    'deny',
    'own_plugin',
    'not_own_plugin',
  ],
  [
    'operator reads a plugin config',
    input('plugins.config-read', user(roleTraits.operator), { resource: { type: 'plugins', id: 'p-two' } }),
    'allow',
    'capability',
    'capability_present',
  ],
  [
    'viewer reads a plugin config',
    input('plugins.config-read', user(roleTraits.viewer), { resource: { type: 'plugins', id: 'p-two' } }),
    'deny',
    'capability',
    'plugin_manager_required',
  ],

  // audit → audit_viewer
  [
    'security admin queries audit',
    input('audit.read', user(roleTraits.security_admin)),
    'allow',
    'capability',
    'capability_present',
  ],
  [
    'compliance officer exports audit',
    input('audit.export', user(roleTraits.compliance_officer)),
    'allow',
    'capability',
    'capability_present',
  ],
  [
    'viewer queries audit',
    input('audit.read', user(roleTraits.viewer)),
    'deny',
    'capability',
    'audit_viewer_required',
  ],

  // policy → admin or security_admin for writes
  [
    'admin writes policy',
    input('policy.write', user(roleTraits.admin)),
    'allow',
    'capability',
    'capability_present',
  ],
  [
    'security admin writes policy',
    input('policy.write', user(roleTraits.security_admin)),
    'allow',
    'capability',
    'capability_present',
  ],
  [
    'compliance officer writes policy',
    input('policy.write', user(roleTraits.compliance_officer)),
    'deny',
    'capability',
    'admin_or_security_admin_required',
  ],
  [
    'compliance officer simulates',
    input('policy.simulate', user(roleTraits.compliance_officer)),
    'allow',
    'capability',
    'capability_present',
  ],
  [
    'viewer reads policy',
    input('policy.read', user(roleTraits.viewer)),
    'deny',
    'capability',
    'admin_or_security_admin_or_compliance_officer_required',
  ],
  ['service decides', input('policy.decide', service('gateway')), 'allow', 'core_service', 'core_service'],

  // keys → security_admin
  [
    'security admin rotates keys',
    input('identity.key.rotate', user(roleTraits.security_admin)),
    'allow',
    'capability',
    'capability_present',
  ],
  [
    'admin rotates keys',
    input('identity.key.rotate', user(roleTraits.admin)),
    'deny',
    'capability',
    'security_admin_required',
  ],

  // core services
  [
    'registry issues a plugin secret',
    input('identity.plugin-credential.issue', service('registry')),
    'allow',
    'core_service',
    'core_service',
  ],
  [
    'service without system_core',
    input('identity.plugin-credential.revoke', service('registry', [])),
    'deny',
    'core_service',
    'core_service_required',
  ],

  // own account, roles, vocabulary
  ['user reads own profile', input('identity.auth.me', user([])), 'allow', 'self_service', 'own_account'],
  [
    'user creates an API key',
    input('identity.api-key.create', user(roleTraits.viewer)),
    'allow',
    'self_service',
    'own_account',
  ],
  [
    'user lists roles',
    input('identity.role.list', user([])),
    'allow',
    'any_principal',
    'authenticated_principal',
  ],

  // classification rules on the principal
  [
    'PHI with the three traits',
    input('events.publish', plugin('ehr', PHI_SET), { classification: ['phi'] }),
    'allow',
    'event_publish',
    'publisher',
  ],
  [
    'PHI without handles_phi',
    input('events.publish', plugin('ehr', ['audit_required', 'encryption_required']), {
      classification: ['phi'],
    }),
    'deny',
    'phi_access',
    'phi_trait_missing',
  ],
  [
    'PHI without audit_required',
    input('events.publish', plugin('ehr', ['handles_phi', 'encryption_required']), {
      classification: ['phi'],
    }),
    'deny',
    'phi_access',
    'phi_audit_required',
  ],
  [
    'PHI without encryption_required',
    input('events.publish', plugin('ehr', ['handles_phi', 'audit_required']), { classification: ['phi'] }),
    'deny',
    'phi_access',
    'phi_encryption_required',
  ],
  [
    'PHI through a legacy alias',
    input('events.publish', plugin('ehr', ['phi_handler', 'audit_required', 'encryption_required']), {
      classification: ['phi'],
    }),
    'allow',
    'event_publish',
    'publisher',
  ],
  [
    'PII with its traits',
    input('events.publish', plugin('crm', PII_SET), { classification: ['pii'] }),
    'allow',
    'event_publish',
    'publisher',
  ],
  [
    'PII without handles_pii',
    input('events.publish', plugin('crm', ['audit_required']), { classification: ['pii'] }),
    'deny',
    'pii_access',
    'pii_trait_missing',
  ],
  [
    'PII without audit_required',
    input('events.publish', plugin('crm', ['handles_pii']), { classification: ['pii'] }),
    'deny',
    'pii_access',
    'pii_audit_required',
  ],
  [
    'confidential with its trait',
    input('events.publish', plugin('fin', ['handles_confidential']), { classification: ['confidential'] }),
    'allow',
    'event_publish',
    'publisher',
  ],
  [
    'confidential without it',
    input('events.publish', plugin('fin', []), { classification: ['confidential'] }),
    'deny',
    'confidential_access',
    'confidential_trait_missing',
  ],
  [
    'public and internal need nothing',
    input('events.publish', plugin('fin', []), { classification: ['public', 'internal'] }),
    'allow',
    'event_publish',
    'publisher',
  ],
  [
    'PHI and PII: both sets needed',
    input('events.publish', plugin('ehr', PHI_SET), { classification: ['phi', 'pii'] }),
    'deny',
    'pii_access',
    'pii_trait_missing',
  ],
  [
    'admin reads PHI',
    input('identity.user.read', user(roleTraits.admin), { classification: ['phi'] }),
    'deny',
    'phi_access',
    'phi_trait_missing',
  ],
  [
    'admin reads PII',
    input('identity.user.read', user(roleTraits.admin), { classification: ['pii'] }),
    'deny',
    'pii_access',
    'pii_trait_missing',
  ],
  [
    'admin + phi_handler reads PHI',
    input('identity.user.read', user([...roleTraits.admin, ...roleTraits.phi_handler]), {
      classification: ['phi'],
    }),
    'allow',
    'capability',
    'capability_present',
  ],
  [
    'phi_handler lacks the capability',
    input('identity.user.read', user(roleTraits.phi_handler), { classification: ['phi'] }),
    'deny',
    'capability',
    'user_manager_required',
  ],

  // break-glass
  [
    'break-glass in its window',
    input('users.read', user(roleTraits.admin), { classification: ['phi'], now: IN_GRANT }),
    'allow',
    'break_glass',
    'break_glass_grant',
  ],
  [
    'break-glass expired',
    input('users.read', user(roleTraits.admin), { classification: ['phi'], now: AFTER_GRANT }),
    'deny',
    'phi_access',
    'phi_trait_missing',
  ],
  [
    'break-glass without a clock',
    input('users.read', user(roleTraits.admin), { classification: ['phi'] }),
    'deny',
    'phi_access',
    'phi_trait_missing',
  ],
  [
    'break-glass before its start',
    input('users.read', user(roleTraits.admin), {
      classification: ['phi'],
      now: Date.parse('2026-03-01T09:59:59Z'),
    }),
    'deny',
    'phi_access',
    'phi_trait_missing',
  ],
  [
    'break-glass opens only its classifications',
    input('users.read', user(roleTraits.admin), { classification: ['phi', 'pii'], now: IN_GRANT }),
    'deny',
    'pii_access',
    'pii_trait_missing',
  ],
  [
    'break-glass of another user',
    input('users.read', user(roleTraits.admin, { id: 'someone-else' }), {
      classification: ['phi'],
      now: IN_GRANT,
    }),
    'deny',
    'phi_access',
    'phi_trait_missing',
  ],
  [
    'break-glass is for users only',
    input('events.publish', plugin(USER_ID, []), { classification: ['phi'], now: IN_GRANT }),
    'deny',
    'phi_access',
    'phi_trait_missing',
  ],
  [
    'break-glass opens no capability',
    input('users.read', user(roleTraits.viewer), { classification: ['phi'], now: IN_GRANT }),
    'deny',
    'capability',
    'user_manager_required',
  ],
];

describe(PolicyEngine.name, () => {
  itDecidesEachRow(sut, TABLE, 7);

  it('simulates with the trail of every rule evaluated, in order, past the first deny', () => {
    const trail = sut.simulate(input('identity.user.create', user(roleTraits.admin))).trail;
    expect(trail.map((entry) => `${entry.ruleId}:${entry.effect}`)).toEqual([
      'input:allow',
      'action_vocabulary:allow',
      'resource_type:allow',
      'principal_status:allow',
      'classification:allow',
      'phi_access:not_applicable',
      'pii_access:not_applicable',
      'confidential_access:not_applicable',
      'source_binding:not_applicable',
      'parties:not_applicable',
      'plugin_source_data:not_applicable',
      'plugin_target_data:not_applicable',
      'capability:allow',
    ]);
    const locked = sut.simulate(
      input('identity.user.create', user([], { status: 'locked' }), { classification: ['phi'] }),
    );
    expect(locked).toMatchObject({ effect: 'deny', ruleId: 'principal_status' });
    expect(locked.trail.filter((entry) => entry.effect === 'deny').map((entry) => entry.reason)).toEqual([
      'principal_inactive',
      'phi_trait_missing',
      'user_manager_required',
    ]);
    expect(sut.decide(input('identity.user.create', user(roleTraits.admin))).trail).toEqual([
      { ruleId: 'capability', effect: 'allow', reason: 'capability_present' },
    ]);
  });

  it('names the traits a denied request needs', () => {
    expect(
      sut.decide(input('events.publish', plugin('ehr', []), { classification: ['phi'] })).requiredTraits,
    ).toEqual(['handles_phi', 'audit_required', 'encryption_required']);
    expect(sut.decide(input('config.read', user([]))).requiredTraits).toEqual(['config_manager', 'viewer']);
    expect(sut.decide(proxy('api.example.org', [])).requiredTraits).toEqual(['external_service']);
    expect(sut.decide(input('users.list', user(roleTraits.admin))).requiredTraits).toEqual([]);
  });

  it('lists the PII fields to strip on sanitize, and nothing otherwise', () => {
    const decision = sut.decide(rpc('get_user', PII_SET, [], ['pii']));
    expect(decision.redactFields).toEqual(piiRedactFields);
    expect(decision.redactFields).toEqual(['personal_info', 'email', 'phone', 'address']);
    expect(sut.decide(rpc('get_user', PII_SET, PII_SET, ['pii'])).redactFields).toEqual([]);
  });

  it('audits PHI, PII, break-glass, sanitize and sensitive administration in detail', () => {
    const level = (request: PolicyInput) => sut.decide(request).auditLevel;
    expect(level(input('events.publish', plugin('ehr', PHI_SET), { classification: ['phi'] }))).toBe(
      'detailed',
    );
    expect(level(input('events.publish', plugin('crm', PII_SET), { classification: ['pii'] }))).toBe(
      'detailed',
    );
    expect(level(input('events.publish', plugin('crm', []), { classification: ['internal'] }))).toBe(
      'standard',
    );
    expect(level(input('identity.user.create', user(roleTraits.admin)))).toBe('detailed');
    expect(level(input('identity.user.list', user(roleTraits.admin)))).toBe('standard');
    expect(level(input('identity.auth.me', user([])))).toBe('standard');
    expect(level(rpc('get_user', PII_SET, [], ['pii']))).toBe('detailed');
  });

  it('marks a decision under a grant with the grant and detailed audit', () => {
    const decision = sut.decide(
      input('users.read', user(roleTraits.admin), { classification: ['phi'], now: IN_GRANT }),
    );
    expect(decision).toMatchObject({ ruleId: 'break_glass', auditLevel: 'detailed', grantId: 'incident-42' });
    expect(decision.trail).toContainEqual({
      ruleId: 'break_glass',
      effect: 'allow',
      reason: 'break_glass_grant',
    });
    expect(sut.decide(input('users.read', user(roleTraits.admin))).grantId).toBeUndefined();
  });

  it('lets core services carry classified data without the data traits', () => {
    const decision = sut.decide(deliver(['phi', 'pii'], [...PHI_SET, ...PII_SET], [...PHI_SET, ...PII_SET]));
    expect(decision.effect).toBe('allow');
    expect(decision.trail).toContainEqual({
      ruleId: 'core_service_data',
      effect: 'allow',
      reason: 'core_service',
    });
  });

  it('gates every ui.* feature by its requirements', () => {
    for (const feature of traitRegistry.real().filter((definition) => definition.category === 'ui_feature')) {
      const request = (traits: string[]) =>
        input('ui_feature.view', user(traits), { resource: { type: 'ui_feature', id: feature.name } });
      const holder = withRequirements(feature.name).filter((name) => name !== feature.name);
      expect(sut.decide(request(holder)).effect, feature.name).toBe('allow');
      const direct = [...feature.requires, ...feature.requiresAnyOf];
      expect(sut.decide(request(holder.filter((name) => !direct.includes(name)))).effect, feature.name).toBe(
        'deny',
      );
    }
  });

  it('makes a capability take effect only with its requirements', () => {
    const cases: Array<[string, string[], string[]]> = [
      ['config.write', ['config_manager'], ['admin']],
      ['users.create', ['user_manager'], ['admin']],
      ['plugins.register', ['plugin_manager'], ['operator', 'viewer']],
      ['audit.read', ['audit_viewer'], ['compliance_officer']],
    ];
    for (const [action, capability, requirement] of cases) {
      expect(sut.decide(input(action, user([...capability, ...requirement]))).effect, action).toBe('allow');
      expect(sut.decide(input(action, user(capability))).effect, action).toBe('deny');
    }
  });

  it('answers the same decision for the same input and never throws on garbage', () => {
    const request = input('identity.user.create', user(roleTraits.admin));
    expect(sut.decide(request)).toEqual(sut.decide(request));
    for (const garbage of [
      null,
      undefined,
      42,
      'x',
      {},
      { action: 'users.read' },
      { action: 1, principal: {} },
    ]) {
      expect(sut.decide(garbage as unknown as PolicyInput).effect).toBe('deny');
    }
  });

  it('freezes decisions so a cached one cannot be changed by a caller', () => {
    const decision = sut.decide(input('identity.user.create', user(roleTraits.admin)));
    expect(Object.isFrozen(decision)).toBe(true);
    expect(Object.isFrozen(decision.trail)).toBe(true);
  });

  it('refuses a bundle that does not validate', () => {
    expect(() => new PolicyEngine(bundle([{ type: 'proxy', plugin: 'mailer', domains: ['*.com'] }]))).toThrow(
      /invalid policy bundle: rules\[0\]\.domains\[0\]/,
    );
  });
});
