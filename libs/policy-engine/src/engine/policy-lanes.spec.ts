import { describe } from 'vitest';

import type { Row } from '../testing/engine-table';
import { deliver, ENGINE_RULES, EXTERNAL, itDecidesEachRow, proxy, rpc } from '../testing/engine-table';
import {
  bundle,
  input,
  party,
  PHI_SET,
  PII_SET,
  plugin,
  roleTraits,
  service,
  user,
} from '../testing/policy.fixtures';
import { PolicyEngine } from './policy-engine';

const sut = new PolicyEngine(bundle(ENGINE_RULES));

/** Operator lane, canonical delivery, proxy lane, UI gating and events. */
const TABLE: Row[] = [
  // operator lane
  ['allowlisted operation', rpc('get_user'), 'allow', 'operator_allowlist', 'operation_allowlisted'],
  [
    'operation not allowlisted',
    rpc('delete_user'),
    'deny',
    'operator_allowlist',
    'operation_not_allowlisted',
  ],
  ['no operation', rpc(undefined), 'deny', 'operator_allowlist', 'operation_missing'],
  ['operation with a dot', rpc('get_user.x'), 'deny', 'operator_allowlist', 'operation_missing'],
  [
    'reverse direction',
    input('rpc.call', plugin('user-directory', []), {
      source: party('user-directory', []),
      target: party('crm-sync', []),
      context: { operation: 'get_user' },
    }),
    'deny',
    'operator_allowlist',
    'operation_not_allowlisted',
  ],
  [
    'source is not the caller',
    input('rpc.call', plugin('mallory', []), {
      source: party('crm-sync', []),
      target: party('user-directory', []),
      context: { operation: 'get_user' },
    }),
    'deny',
    'source_binding',
    'source_mismatch',
  ],
  [
    'no target',
    input('rpc.call', plugin('crm-sync', []), {
      source: party('crm-sync', []),
      context: { operation: 'get_user' },
    }),
    'deny',
    'parties',
    'parties_missing',
  ],
  [
    'PII to a target with PII traits',
    rpc('get_user', PII_SET, PII_SET, ['pii']),
    'allow',
    'operator_allowlist',
    'operation_allowlisted',
  ],
  [
    'PII to a target without PII traits',
    rpc('get_user', PII_SET, [], ['pii']),
    'sanitize',
    'plugin_target_data',
    'target_pii_sanitized',
  ],
  [
    'PHI to a target without PHI traits',
    rpc('get_user', PHI_SET, PII_SET, ['phi']),
    'deny',
    'plugin_target_data',
    'target_phi_trait_missing',
  ],
  [
    'confidential to a target without it',
    rpc('get_user', ['handles_confidential'], [], ['confidential']),
    'deny',
    'plugin_target_data',
    'target_confidential_trait_missing',
  ],
  [
    'caller without PII traits sends PII',
    rpc('get_user', [], PII_SET, ['pii']),
    'deny',
    'pii_access',
    'pii_trait_missing',
  ],
  [
    'allowlisted but caller disabled',
    input('rpc.call', plugin('crm-sync', [], 'disabled'), {
      source: party('crm-sync', []),
      target: party('user-directory', []),
      context: { operation: 'get_user' },
    }),
    'deny',
    'principal_status',
    'principal_inactive',
  ],
  [
    'core service calls a plugin',
    input('rpc.call', service('gateway'), {
      source: party('gateway', ['system_core']),
      target: party('user-directory', []),
      context: { operation: 'anything' },
    }),
    'allow',
    'operator_allowlist',
    'core_caller',
  ],

  // canonical delivery
  [
    'deliver PII to a PII handler',
    deliver(['pii'], PII_SET, PII_SET),
    'allow',
    'event_delivery',
    'core_service',
  ],
  [
    'deliver PII to a plain subscriber',
    deliver(['pii'], PII_SET, ['communication_plugin']),
    'sanitize',
    'plugin_target_data',
    'target_pii_sanitized',
  ],
  [
    'deliver PHI to a plain subscriber',
    deliver(['phi'], PHI_SET, ['communication_plugin']),
    'deny',
    'plugin_target_data',
    'target_phi_trait_missing',
  ],
  [
    'deliver PHI from a source without PHI traits',
    deliver(['phi'], [], PHI_SET),
    'deny',
    'plugin_source_data',
    'source_phi_trait_missing',
  ],
  [
    'deliver by a plugin',
    input('events.deliver', plugin('p-one', []), { source: party('p-one', []), target: party('p-two', []) }),
    'deny',
    'default_deny',
    'default_deny',
  ],
  [
    'deliver without parties',
    input('events.deliver', service('event-router')),
    'deny',
    'parties',
    'parties_missing',
  ],

  // proxy lane
  ['approved domain', proxy('api.example.org'), 'allow', 'proxy_approval', 'domain_approved'],
  [
    'approved domain, other case and a trailing dot',
    proxy('API.Example.ORG.'),
    'allow',
    'proxy_approval',
    'domain_approved',
  ],
  ['wildcard, one label below', proxy('eu.mail.example.net'), 'allow', 'proxy_approval', 'domain_approved'],
  ['wildcard, not the apex', proxy('mail.example.net'), 'deny', 'proxy_approval', 'domain_not_approved'],
  [
    'wildcard, not two labels below',
    proxy('a.b.mail.example.net'),
    'deny',
    'proxy_approval',
    'domain_not_approved',
  ],
  ['lookalike suffix', proxy('evilmail.example.net'), 'deny', 'proxy_approval', 'domain_not_approved'],
  ['unapproved domain', proxy('api.openai.com'), 'deny', 'proxy_approval', 'domain_not_approved'],
  ['IP literal', proxy('127.0.0.1'), 'deny', 'proxy_approval', 'invalid_domain'],
  ['localhost', proxy('localhost'), 'deny', 'proxy_approval', 'invalid_domain'],
  ['internal name', proxy('db.internal'), 'deny', 'proxy_approval', 'invalid_domain'],
  ['no domain', proxy(undefined), 'deny', 'proxy_approval', 'invalid_domain'],
  [
    'approval without external_service',
    proxy('api.example.org', ['communication_plugin']),
    'deny',
    'proxy_trait',
    'external_service_trait_missing',
  ],
  [
    "another plugin's approval",
    proxy('api.example.org', EXTERNAL, 'crm-sync'),
    'deny',
    'proxy_approval',
    'domain_not_approved',
  ],

  // ui gating
  [
    'admin sees config',
    input('ui_feature.view', user(roleTraits.admin), { resource: { type: 'ui_feature', id: 'ui.config' } }),
    'allow',
    'ui_gating',
    'ui_feature_granted',
  ],
  [
    'short feature name',
    input('ui_feature.view', user(roleTraits.admin), { resource: { type: 'ui_feature', id: 'config' } }),
    'allow',
    'ui_gating',
    'ui_feature_granted',
  ],
  [
    'viewer sees config',
    input('ui_feature.view', user(roleTraits.viewer), { resource: { type: 'ui_feature', id: 'ui.config' } }),
    'deny',
    'ui_gating',
    'ui_feature_denied',
  ],
  [
    'holding ui.config is not enough',
    input('ui_feature.view', user(['ui.config']), { resource: { type: 'ui_feature', id: 'ui.config' } }),
    'deny',
    'ui_gating',
    'ui_feature_denied',
  ],
  [
    'unknown feature',
    input('ui_feature.view', user(roleTraits.admin), { resource: { type: 'ui_feature', id: 'ui.send' } }),
    'deny',
    'ui_gating',
    'unknown_ui_feature',
  ],
  ['no feature', input('ui_feature.view', user(roleTraits.admin)), 'deny', 'ui_gating', 'unknown_ui_feature'],

  // events
  [
    'plugin subscribes',
    input('events.subscribe', plugin('p-one', [])),
    'allow',
    'event_subscription',
    'own_subscriptions',
  ],
  [
    'plugin publishes as another',
    input('events.publish', plugin('p-one', []), { source: party('p-two', []) }),
    'deny',
    'source_binding',
    'source_mismatch',
  ],
  ['service publishes', input('events.publish', service('registry')), 'allow', 'event_publish', 'publisher'],
];

describe(`${PolicyEngine.name} lanes`, () => {
  itDecidesEachRow(sut, TABLE, 7);
});
