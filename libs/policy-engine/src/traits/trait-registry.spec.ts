import { describe, expect, it } from 'vitest';

import { roleTraits, withRequirements } from '../testing/policy.fixtures';
import { reservedTraitWords, traitDefinitions } from './trait-catalog';
import {
  blockedPluginTraits,
  effectiveTraits,
  resolveTraits,
  TraitRegistry,
  traitRegistry,
  uiTraitsFor,
  validateTraits,
} from './trait-registry';

/** The predecessor's 54 names (predecessor-inventory §1.1), in its order. */
const PREDECESSOR_54 = [
  'admin',
  'viewer',
  'developer',
  'operator',
  'config_manager',
  'handles_notifications',
  'notification_manager',
  'plugin_manager',
  'user_manager',
  'audit_viewer',
  'system_monitor',
  'handles_phi',
  'handles_pii',
  'handles_confidential',
  'handles_public',
  'ui.admin',
  'ui.automations',
  'ui.notifications',
  'ui.notifications_inbox',
  'ui.notifications_send',
  'ui.config',
  'ui.plugins',
  'ui.audit',
  'ui.users',
  'ui.monitoring',
  'ui.terminal',
  'ui.gateway',
  'ui.messaging',
  'ui.canonical',
  'ui.policy',
  'ui.plugin_dev_guide',
  'ui.register',
  'ui.storage',
  'ui.send_demo',
  'ui.inbound_demo',
  'ui.jobs',
  'ui.dashboard',
  'communication_plugin',
  'storage_plugin',
  'identity_plugin',
  'integration_plugin',
  'workflow_plugin',
  'audit_required',
  'encryption_required',
  'requires_config',
  'external_service',
  'network_isolated',
  'hipaa_compliant',
  'gdpr_compliant',
  'soc2_compliant',
  'system_core',
  'system_plugin',
  'phi_handler',
  'pii_processor',
];

/** Every requirement the registry declares, as [trait, required] (all-of) — one row per requirement. */
const REQUIRES: Array<[string, string]> = [
  ['developer', 'viewer'],
  ['operator', 'viewer'],
  ['config_manager', 'admin'],
  ['notification_manager', 'admin'],
  ['user_manager', 'admin'],
  ['handles_phi', 'audit_required'],
  ['handles_pii', 'audit_required'],
  ['ui.admin', 'admin'],
  ['ui.automations', 'user_manager'],
  ['ui.notifications', 'notification_manager'],
  ['ui.notifications_inbox', 'notification_manager'],
  ['ui.notifications_send', 'notification_manager'],
  ['ui.config', 'config_manager'],
  ['ui.plugins', 'plugin_manager'],
  ['ui.audit', 'audit_viewer'],
  ['ui.users', 'user_manager'],
  ['ui.monitoring', 'system_monitor'],
  ['ui.terminal', 'admin'],
  ['ui.terminal', 'developer'],
  ['ui.gateway', 'admin'],
  ['ui.messaging', 'admin'],
  ['ui.canonical', 'admin'],
  ['ui.plugin_dev_guide', 'developer'],
  ['ui.register', 'plugin_manager'],
  ['ui.storage', 'admin'],
  ['ui.send_demo', 'admin'],
  ['ui.inbound_demo', 'admin'],
  ['ui.jobs', 'system_monitor'],
  ['ui.dashboard', 'viewer'],
  ['hipaa_compliant', 'handles_phi'],
  ['hipaa_compliant', 'audit_required'],
  ['hipaa_compliant', 'encryption_required'],
  ['gdpr_compliant', 'handles_pii'],
  ['gdpr_compliant', 'audit_required'],
  ['soc2_compliant', 'audit_required'],
  ['soc2_compliant', 'encryption_required'],
  ['hipaa_covered_entity', 'hipaa_compliant'],
];

/** Every any-of requirement, as [trait, alternatives]. */
const REQUIRES_ANY: Array<[string, string[]]> = [
  ['plugin_manager', ['admin', 'operator']],
  ['audit_viewer', ['admin', 'operator', 'security_admin', 'compliance_officer']],
  ['system_monitor', ['operator', 'admin']],
  ['ui.policy', ['admin', 'security_admin', 'compliance_officer']],
];

/** Every conflicting pair. */
const CONFLICTS: Array<[string, string]> = [
  ['external_service', 'network_isolated'],
  ['handles_phi', 'handles_public'],
  ['handles_pii', 'handles_public'],
  ['handles_confidential', 'handles_public'],
  ['system_core', 'system_plugin'],
];

describe(TraitRegistry.name, () => {
  it("holds every one of the predecessor's 54 traits", () => {
    expect(PREDECESSOR_54).toHaveLength(54);
    for (const name of PREDECESSOR_54) {
      expect(traitRegistry.get(name), name).toBeDefined();
    }
  });

  it('adds the traits the predecessor used without defining, and aliases for its other names', () => {
    expect(traitRegistry.get('security_admin')).toMatchObject({ category: 'role', origin: 'used_undefined' });
    expect(traitRegistry.get('compliance_officer')).toMatchObject({
      category: 'role',
      origin: 'used_undefined',
    });
    expect(traitRegistry.get('hipaa_covered_entity')).toMatchObject({ category: 'compliance' });
    for (const [alias, real] of [
      ['pii_handler', 'handles_pii'],
      ['hipaa_authorized', 'handles_phi'],
      ['hipaa_cleared', 'handles_phi'],
      ['pii_cleared', 'handles_pii'],
    ]) {
      expect(traitRegistry.get(alias)).toMatchObject({ legacy: true, aliasOf: real });
    }
    for (const word of ['system', 'root', 'authenticated']) {
      expect(traitRegistry.get(word), word).toBeUndefined();
      expect(reservedTraitWords).toContain(word);
    }
    expect(traitRegistry.real()).toHaveLength(55);
    expect(traitRegistry.all()).toHaveLength(61);
  });

  it('gives every trait a category, description, label, icon and holder kinds', () => {
    for (const definition of traitRegistry.all()) {
      expect(definition.description.length, definition.name).toBeGreaterThan(5);
      expect(definition.uiLabel.length, definition.name).toBeGreaterThan(1);
      expect(definition.uiIcon, definition.name).toMatch(/^[a-z_]+$/);
      expect(definition.holders.length, definition.name).toBeGreaterThan(0);
    }
    const counts = Object.fromEntries(
      Object.entries(traitRegistry.byCategory()).map(([category, list]) => [
        category,
        list.filter((definition) => !definition.legacy).length,
      ]),
    );
    expect(counts).toEqual({
      role: 6,
      capability: 7,
      data_access: 4,
      ui_feature: 22,
      plugin_type: 5,
      security: 5,
      compliance: 4,
      system: 2,
    });
  });

  it('names only real traits in requires, requiresAnyOf and conflicts', () => {
    for (const definition of traitDefinitions) {
      for (const name of [...definition.requires, ...definition.requiresAnyOf, ...definition.conflicts]) {
        expect(traitRegistry.get(name)?.legacy, `${definition.name} → ${name}`).toBe(false);
      }
    }
  });

  it('declares exactly the requirement table of docs/policy.md', () => {
    const declared = traitRegistry
      .real()
      .flatMap((definition) => definition.requires.map((required) => [definition.name, required]));
    expect(declared.sort()).toEqual([...REQUIRES].sort());
    const declaredAny = traitRegistry
      .real()
      .filter((definition) => definition.requiresAnyOf.length > 0)
      .map((definition) => [definition.name, [...definition.requiresAnyOf]]);
    expect(declaredAny.sort()).toEqual([...REQUIRES_ANY].sort());
  });

  it('declares conflicts symmetrically, exactly the pairs of docs/policy.md', () => {
    const pairs = new Set<string>();
    for (const definition of traitRegistry.real()) {
      for (const other of definition.conflicts) {
        expect(traitRegistry.get(other)!.conflicts, `${other} lists ${definition.name}`).toContain(
          definition.name,
        );
        pairs.add([definition.name, other].sort().join(' '));
      }
    }
    expect([...pairs].sort()).toEqual(CONFLICTS.map((pair) => [...pair].sort().join(' ')).sort());
  });

  it('rejects an alias that points at another alias', () => {
    const broken = [
      { ...traitRegistry.get('phi_handler')!, name: 'a' },
      { ...traitRegistry.get('phi_handler')!, name: 'b', aliasOf: 'a' },
    ];
    expect(() => new TraitRegistry(broken)).toThrow(/must resolve to a real trait/);
  });
});

describe('aliases (regression: the predecessor resolved handles_phi to its legacy record)', () => {
  it('answers the real record for handles_phi and handles_pii, with their requirements', () => {
    expect(traitRegistry.get('handles_phi')).toMatchObject({ legacy: false, requires: ['audit_required'] });
    expect(traitRegistry.get('handles_pii')).toMatchObject({ legacy: false, requires: ['audit_required'] });
    expect(traitRegistry.canonical('phi_handler')?.name).toBe('handles_phi');
    expect(traitRegistry.canonical('pii_processor')?.name).toBe('handles_pii');
  });

  it('still enforces handles_phi requires audit_required when it is reached through an alias', () => {
    expect(validateTraits(['phi_handler'], { kind: 'plugin' }).violations).toEqual([
      { trait: 'handles_phi', code: 'requires', detail: 'handles_phi requires audit_required' },
    ]);
  });
});

describe(resolveTraits.name, () => {
  it('canonicalizes, deduplicates and sorts, and reports aliases and unknown names', () => {
    expect(
      resolveTraits(['viewer', 'phi_handler', 'handles_phi', 'pii_handler', 'bogus', 'root', 'bogus']),
    ).toEqual({
      traits: ['handles_phi', 'handles_pii', 'viewer'],
      unknown: ['bogus', 'root'],
      aliased: [
        { from: 'phi_handler', to: 'handles_phi' },
        { from: 'pii_handler', to: 'handles_pii' },
      ],
    });
  });

  it('treats an empty list as no traits at all', () => {
    expect(resolveTraits([])).toEqual({ traits: [], unknown: [], aliased: [] });
  });
});

describe(validateTraits.name, () => {
  it.each(REQUIRES)('%s requires %s', (trait, required) => {
    const holder = traitRegistry.get(trait)!.holders[0];
    const complete = withRequirements(trait);
    expect(validateTraits(complete, { kind: holder }).violations.filter((v) => v.code !== 'blocked')).toEqual(
      [],
    );
    const without = complete.filter((name) => name !== required);
    expect(validateTraits(without, { kind: holder }).violations).toContainEqual({
      trait,
      code: 'requires',
      detail: `${trait} requires ${required}`,
    });
  });

  it.each(REQUIRES_ANY)('%s requires one of %j', (trait, alternatives) => {
    for (const alternative of alternatives) {
      expect(
        validateTraits(withRequirements(alternative).concat(trait), { kind: 'user' }).ok,
        alternative,
      ).toBe(true);
    }
    expect(validateTraits([trait], { kind: 'user' }).violations).toContainEqual({
      trait,
      code: 'requires',
      detail: `${trait} requires one of ${alternatives.join(', ')}`,
    });
  });

  it.each(CONFLICTS)('%s conflicts with %s', (a, b) => {
    const kind =
      traitRegistry.get(a)!.holders.find((k) => traitRegistry.get(b)!.holders.includes(k)) ?? 'plugin';
    const traits = [...withRequirements(a), ...withRequirements(b)];
    const conflicts = validateTraits(traits, { kind }).violations.filter((v) => v.code === 'conflicts');
    expect(conflicts).toEqual([
      { trait: a < b ? a : b, code: 'conflicts', detail: `${[a, b].sort().join(' conflicts with ')}` },
    ]);
  });

  it('lists every violation, not the first', () => {
    const result = validateTraits(
      ['bogus', 'root', 'admin', 'handles_phi', 'network_isolated', 'external_service', 'hipaa_compliant'],
      { kind: 'plugin' },
    );
    expect(result.ok).toBe(false);
    expect(result.violations.map((v) => [v.trait, v.code])).toEqual([
      ['bogus', 'unknown'],
      ['root', 'blocked'],
      ['admin', 'blocked'],
      ['handles_phi', 'requires'],
      ['hipaa_compliant', 'requires'],
      ['hipaa_compliant', 'requires'],
      ['external_service', 'conflicts'],
    ]);
  });

  it("accepts every default role's traits for a user", () => {
    for (const [name, traits] of Object.entries(roleTraits)) {
      expect(validateTraits(traits, { kind: 'user' }), name).toEqual({ ok: true, violations: [] });
    }
  });

  it("accepts the predecessor's valid example manifests' traits for a plugin", () => {
    const manifests = [
      ['communication_plugin', 'handles_phi', 'audit_required', 'encryption_required', 'hipaa_compliant'],
      ['communication_plugin', 'handles_notifications', 'requires_config', 'external_service'],
      ['communication_plugin', 'external_service', 'requires_config', 'handles_pii', 'audit_required'],
    ];
    for (const traits of manifests) {
      expect(validateTraits(traits, { kind: 'plugin' }), traits.join()).toEqual({ ok: true, violations: [] });
    }
  });

  it('blocks traits the kind may not hold', () => {
    expect(validateTraits(['system_core'], { kind: 'user' }).violations).toEqual([
      { trait: 'system_core', code: 'blocked', detail: 'a user may not hold system_core (held by: service)' },
    ]);
    expect(
      validateTraits(['ui.dashboard', 'viewer'], { kind: 'plugin' }).violations.map((v) => v.code),
    ).toEqual(['blocked', 'blocked']);
    expect(validateTraits(['system_core'], { kind: 'service' }).ok).toBe(true);
  });
});

describe(blockedPluginTraits.name, () => {
  it.each([
    'admin',
    'system',
    'root',
    'authenticated',
    'super_admin',
    'viewer',
    'operator',
    'developer',
    'security_admin',
    'compliance_officer',
    'user_manager',
    'plugin_manager',
    'config_manager',
    'audit_viewer',
    'system_monitor',
    'notification_manager',
    'system_core',
  ])('blocks %s', (name) => {
    expect(blockedPluginTraits(name)).toBe(true);
  });

  it('blocks every ui.* trait', () => {
    for (const definition of traitRegistry.real().filter((d) => d.category === 'ui_feature')) {
      expect(blockedPluginTraits(definition.name), definition.name).toBe(true);
    }
  });

  it.each([
    'handles_phi',
    'phi_handler',
    'handles_pii',
    'external_service',
    'network_isolated',
    'communication_plugin',
    'hipaa_compliant',
    'system_plugin',
    'handles_notifications',
    'audit_required',
  ])('lets a plugin declare %s', (name) => {
    expect(blockedPluginTraits(name)).toBe(false);
  });

  it('does not call an unknown name blocked (validateTraits reports it as unknown)', () => {
    expect(blockedPluginTraits('write_access')).toBe(false);
  });
});

describe(effectiveTraits.name, () => {
  it('drops traits whose requirements are missing, following chains', () => {
    expect([...effectiveTraits(['ui.config', 'config_manager'])]).toEqual([]);
    expect([...effectiveTraits(['ui.config', 'config_manager', 'admin'])].sort()).toEqual([
      'admin',
      'config_manager',
      'ui.config',
    ]);
    expect([...effectiveTraits(['plugin_manager', 'operator'])]).toEqual([]);
    expect([...effectiveTraits(['plugin_manager', 'operator', 'viewer'])].sort()).toEqual([
      'operator',
      'plugin_manager',
      'viewer',
    ]);
  });
});

describe(uiTraitsFor.name, () => {
  it("grants the admin role's console features, not the terminal", () => {
    const features = uiTraitsFor(roleTraits.admin);
    expect(features).toContain('ui.config');
    expect(features).toContain('ui.policy');
    expect(features).not.toContain('ui.terminal');
    expect(features).not.toContain('ui.notifications');
    expect(features).not.toContain('ui.plugin_dev_guide');
  });

  it('grants a feature from its requirements, not from holding the ui trait', () => {
    expect(uiTraitsFor(['ui.admin', 'ui.config'])).toEqual([]);
    expect(uiTraitsFor(['viewer'])).toEqual(['ui.dashboard']);
    expect(uiTraitsFor(roleTraits.operator)).toEqual([
      'ui.audit',
      'ui.dashboard',
      'ui.jobs',
      'ui.monitoring',
      'ui.plugins',
      'ui.register',
    ]);
    expect(uiTraitsFor(roleTraits.security_admin)).toEqual(['ui.audit', 'ui.dashboard', 'ui.policy']);
  });

  it('grants every ui trait to a holder of all traits but never to one with none', () => {
    const all = traitRegistry.real().map((definition) => definition.name);
    expect(uiTraitsFor(all)).toHaveLength(22);
    expect(uiTraitsFor([])).toEqual([]);
  });
});
