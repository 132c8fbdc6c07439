// Builders for the specs of this lib (excluded from the build by tsconfig.lib.json).
import type { Classification } from '@vivified/contracts';

import { actionSpec } from '../actions/action-catalog';
import type { PolicyBundle } from '../bundle/policy-bundle';
import type { PolicyInput, PolicyParty, PolicyPrincipal } from '../policy-types';
import { traitRegistry } from '../traits/trait-registry';

/** The traits of identity's default roles (apps/identity/migrations/0002_accounts.sql, ARCHITECTURE §4). */
export const roleTraits = {
  admin: [
    'admin',
    'user_manager',
    'plugin_manager',
    'config_manager',
    'audit_viewer',
    'system_monitor',
    'viewer',
    'ui.admin',
    'ui.automations',
    'ui.config',
    'ui.plugins',
    'ui.audit',
    'ui.users',
    'ui.monitoring',
    'ui.gateway',
    'ui.messaging',
    'ui.canonical',
    'ui.policy',
    'ui.register',
    'ui.storage',
    'ui.jobs',
    'ui.dashboard',
  ],
  operator: [
    'operator',
    'plugin_manager',
    'audit_viewer',
    'system_monitor',
    'viewer',
    'ui.plugins',
    'ui.audit',
    'ui.monitoring',
    'ui.dashboard',
  ],
  viewer: ['viewer', 'ui.dashboard'],
  developer: ['developer', 'viewer', 'ui.plugin_dev_guide', 'ui.dashboard'],
  phi_handler: ['handles_phi', 'audit_required', 'encryption_required', 'viewer', 'ui.dashboard'],
  pii_handler: ['handles_pii', 'audit_required', 'viewer', 'ui.dashboard'],
  security_admin: ['security_admin', 'audit_viewer', 'viewer', 'ui.audit', 'ui.dashboard'],
  compliance_officer: ['compliance_officer', 'audit_viewer', 'viewer', 'ui.audit', 'ui.dashboard'],
} as const satisfies Record<string, readonly string[]>;

/** The PHI trait set. */
export const PHI_SET = ['handles_phi', 'audit_required', 'encryption_required'];
/** The PII trait set. */
export const PII_SET = ['handles_pii', 'audit_required'];

export const USER_ID = '6f1c2d3e-0000-4000-8000-000000000001';

/** An active user with these traits. */
export function user(traits: readonly string[], overrides: Partial<PolicyPrincipal> = {}): PolicyPrincipal {
  return { kind: 'user', id: USER_ID, traits, status: 'active', ...overrides };
}

/** An active plugin with these traits. */
export function plugin(id: string, traits: readonly string[], status = 'active'): PolicyPrincipal {
  return { kind: 'plugin', id, traits, status };
}

/** A core service (its token carries system_core). */
export function service(name = 'event-router', traits: readonly string[] = ['system_core']): PolicyPrincipal {
  return { kind: 'service', id: name, traits, status: 'active' };
}

/** A party of a plugin-to-plugin flow. */
export function party(pluginId: string, traits: readonly string[]): PolicyParty {
  return { pluginId, traits };
}

/** An input for an action; the resource type is the action's unless overridden. */
export function input(
  action: string,
  principal: PolicyPrincipal,
  overrides: Partial<Omit<PolicyInput, 'classification'>> & {
    classification?: readonly Classification[];
  } = {},
): PolicyInput {
  return {
    action,
    principal,
    resource: { type: actionSpec(action)?.resource ?? 'unknown' },
    classification: [],
    ...overrides,
  };
}

/** A bundle with these rules. */
export function bundle(rules: PolicyBundle['rules'] = [], version = 7): PolicyBundle {
  return { version, createdAt: '2026-01-01T00:00:00.000Z', rules };
}

/** `name` plus every trait its requirements need, transitively (the first alternative of an any-of). */
export function withRequirements(name: string): string[] {
  const out = new Set<string>([name]);
  const queue = [name];
  while (queue.length > 0) {
    const definition = traitRegistry.canonical(queue.pop()!)!;
    for (const required of [...definition.requires, ...definition.requiresAnyOf.slice(0, 1)]) {
      if (!out.has(required)) {
        out.add(required);
        queue.push(required);
      }
    }
  }

  return [...out];
}
