import type { PluginManifest } from '@vivified/contracts';
import { describe, expect, it } from 'vitest';

import { aManifest, aPhiManifest, remove, setRaw } from './testing/manifest-builder';
import { validateManifest } from './validate-manifest';
import type { ManifestViolationCode } from './violations';
import { manifestViolationCodes } from './violations';

type Expected = Array<{ path: string; code: ManifestViolationCode }>;

function verdict(input: unknown, options?: Parameters<typeof validateManifest>[1]): Expected {
  const result = validateManifest(input, options);
  expect(result.ok).toBe(result.violations.length === 0);

  return result.violations.map(({ path, code }) => ({ path, code }));
}

const patched = (patch: (manifest: PluginManifest) => void) => aManifest(patch);

describe(validateManifest.name, () => {
  it('accepts a valid manifest and answers it', () => {
    const result = validateManifest(aManifest());
    expect(result).toMatchObject({ ok: true, violations: [] });
    expect(result.manifest).toEqual(aManifest());
  });

  it('accepts the PHI manifest that meets every PHI requirement', () => {
    expect(verdict(aPhiManifest())).toEqual([]);
  });

  it('answers no manifest with a violation', () => {
    const result = validateManifest(aManifest((manifest) => (manifest.traits = ['admin'])));
    expect(result.ok).toBe(false);
    expect(result.manifest).toBeUndefined();
  });

  describe('schema', () => {
    const cases: Array<[string, unknown, Expected]> = [
      ['a missing field', patched((m) => remove(m, 'id')), [{ path: 'id', code: 'schema_missing' }]],
      [
        'a missing nested field',
        patched((m) => remove(m.security, 'authenticationRequired')),
        [{ path: 'security.authenticationRequired', code: 'schema_missing' }],
      ],
      ['an id with capitals', patched((m) => (m.id = 'Acme')), [{ path: 'id', code: 'schema_invalid' }]],
      ['an id of two characters', patched((m) => (m.id = 'ab')), [{ path: 'id', code: 'schema_invalid' }]],
      [
        'an id of 64 characters',
        patched((m) => (m.id = `a${'b'.repeat(63)}`)),
        [{ path: 'id', code: 'schema_invalid' }],
      ],
      [
        'a version that is not semver',
        patched((m) => (m.version = '1.0')),
        [{ path: 'version', code: 'schema_invalid' }],
      ],
      [
        'a version with a leading zero',
        patched((m) => (m.version = '01.0.0')),
        [{ path: 'version', code: 'schema_invalid' }],
      ],
      ['a semver with pre-release and build', patched((m) => (m.version = '2.0.0-rc.1+build.7')), []],
      ['an empty name', patched((m) => (m.name = '')), [{ path: 'name', code: 'schema_invalid' }]],
      [
        'a description over 2000 characters',
        patched((m) => (m.description = 'x'.repeat(2001))),
        [{ path: 'description', code: 'schema_invalid' }],
      ],
      [
        'an unknown top-level field',
        patched((m) => setRaw(m, 'endpoints', { send: '/send' })),
        [{ path: 'endpoints', code: 'schema_unknown_field' }],
      ],
      [
        'an unknown nested field',
        patched((m) => setRaw(m.security, 'allowed_domains', [])),
        [{ path: 'security.allowed_domains', code: 'schema_unknown_field' }],
      ],
      [
        'an unknown field of an operation',
        patched((m) => setRaw(m.operations[0], 'path', '/send')),
        [{ path: 'operations.0.path', code: 'schema_unknown_field' }],
      ],
      [
        'a __proto__ key',
        { ...JSON.parse('{"__proto__": {"admin": true}}'), ...aManifest() },
        [{ path: '__proto__', code: 'schema_unknown_field' }],
      ],
      [
        'a __proto__ key inside the config schema',
        patched(
          (m) =>
            (m.configSchema = JSON.parse('{"type": "object", "__proto__": {"x": 1}}') as Record<
              string,
              unknown
            >),
        ),
        [{ path: 'configSchema.__proto__', code: 'schema_unknown_field' }],
      ],
      [
        'more domains than allowed',
        patched((m) => {
          m.traits.push('external_service');
          m.allowedDomains = Array.from({ length: 33 }, (_, index) => `api${index}.acme.io`);
        }),
        [{ path: 'allowedDomains', code: 'schema_invalid' }],
      ],
      [
        'a duplicate trait',
        patched((m) => m.traits.push('communication_plugin')),
        [{ path: 'traits', code: 'schema_invalid' }],
      ],
      [
        'a trait that is no name',
        patched((m) => m.traits.push('Handles PHI')),
        [{ path: 'traits', code: 'schema_invalid' }],
      ],
      [
        'a contract in snake case',
        patched((m) => (m.contracts = ['communication_plugin'])),
        [{ path: 'contracts', code: 'schema_invalid' }],
      ],
      [
        'a dependency that is no plugin id',
        patched((m) => (m.dependencies = ['Acme Core'])),
        [{ path: 'dependencies', code: 'schema_invalid' }],
      ],
      [
        'no classification',
        patched((m) => {
          m.security.dataClassification = [];
          m.operations = [];
        }),
        [{ path: 'security.dataClassification', code: 'schema_invalid' }],
      ],
      [
        'an unknown classification (the operation’s internal is then undeclared too)',
        patched((m) => setRaw(m.security, 'dataClassification', ['secret'])),
        [
          { path: 'security.dataClassification', code: 'schema_invalid' },
          { path: 'operations.0.classification.0', code: 'operation_classification_undeclared' },
        ],
      ],
      [
        'an audit level of the predecessor',
        patched((m) => setRaw(m.compliance, 'auditLevel', 'enhanced')),
        [{ path: 'compliance.auditLevel', code: 'schema_invalid' }],
      ],
      [
        'a HIPAA control without its paragraph',
        patched((m) => (m.compliance.hipaaControls = ['164.312'])),
        [{ path: 'compliance.hipaaControls', code: 'schema_invalid' }],
      ],
      [
        'a HIPAA control outside the Security Rule',
        patched((m) => (m.compliance.hipaaControls = ['164.502(a)'])),
        [{ path: 'compliance.hipaaControls', code: 'schema_invalid' }],
      ],
      [
        'a HIPAA control with a sub-paragraph',
        patched((m) => (m.compliance.hipaaControls = ['164.312(a)(2)'])),
        [],
      ],
      [
        'a negative retention',
        patched((m) => (m.compliance.dataRetentionDays = -1)),
        [{ path: 'compliance.dataRetentionDays', code: 'schema_invalid' }],
      ],
      [
        'a retention given as a string',
        patched((m) => setRaw(m.compliance, 'dataRetentionDays', '2555')),
        [{ path: 'compliance.dataRetentionDays', code: 'schema_invalid' }],
      ],
      [
        'an operation name with a hyphen',
        patched((m) => (m.operations[0].name = 'send-now')),
        [{ path: 'operations.0.name', code: 'schema_invalid' }],
      ],
      [
        'an operation name of 64 characters',
        patched((m) => (m.operations[0].name = `s${'x'.repeat(63)}`)),
        [{ path: 'operations.0.name', code: 'schema_invalid' }],
      ],
      [
        'an operation timeout under 100 ms',
        patched((m) => (m.operations[0].timeoutMs = 50)),
        [{ path: 'operations.0.timeoutMs', code: 'schema_invalid' }],
      ],
      [
        'an idempotent operation with a timeout',
        patched((m) => Object.assign(m.operations[0], { idempotent: true, timeoutMs: 30_000 })),
        [],
      ],
      [
        'operations that are no list',
        patched((m) => setRaw(m, 'operations', { send: {} })),
        [{ path: 'operations', code: 'schema_invalid' }],
      ],
      [
        'events that are a list',
        patched((m) => setRaw(m, 'events', [])),
        [{ path: 'events', code: 'schema_invalid' }],
      ],
      [
        'a lower-case event type without namespace',
        patched((m) => (m.events.publishes = ['user_created'])),
        [{ path: 'events.publishes', code: 'schema_invalid' }],
      ],
      [
        'an event type with a wildcard',
        patched((m) => (m.events.subscribes = ['acme.>'])),
        [{ path: 'events.subscribes', code: 'schema_invalid' }],
      ],
      [
        'an event version without minor',
        patched((m) => (m.events.subscribes = ['UserCreated@1'])),
        [{ path: 'events.subscribes', code: 'schema_invalid' }],
      ],
      [
        'namespaced and versioned event types',
        patched((m) => (m.events.publishes = ['acme.invoice.paid@1.0', 'UserCreated@2.13'])),
        [],
      ],
      [
        'http delivery without webhook',
        patched((m) => (m.delivery = { mode: 'http' })),
        [{ path: 'delivery.webhookUrl', code: 'schema_missing' }],
      ],
      [
        'a plain-http webhook',
        patched((m) => (m.delivery = { mode: 'http', webhookUrl: 'http://hooks.acme.io/vivified' })),
        [{ path: 'delivery.webhookUrl', code: 'schema_invalid' }],
      ],
      [
        'an https webhook',
        patched((m) => (m.delivery = { mode: 'http', webhookUrl: 'https://hooks.acme.io/vivified' })),
        [],
      ],
      [
        'an unknown delivery mode',
        patched((m) => setRaw(m.delivery, 'mode', 'grpc')),
        [{ path: 'delivery.mode', code: 'schema_invalid' }],
      ],
      [
        'a health interval under 5 s',
        patched((m) => (m.healthCheck.intervalSeconds = 1)),
        [{ path: 'healthCheck.intervalSeconds', code: 'schema_invalid' }],
      ],
      [
        'a fractional memory size',
        patched((m) => (m.resources.memoryMb = 256.5)),
        [{ path: 'resources.memoryMb', code: 'schema_invalid' }],
      ],
      [
        'a rate-limit name with a space',
        patched((m) => (m.rateLimits = { 'send now': 1 })),
        [{ path: 'rateLimits', code: 'schema_invalid' }],
      ],
      [
        'a negative rate limit',
        patched((m) => (m.rateLimits = { send: -1 })),
        [{ path: 'rateLimits', code: 'schema_invalid' }],
      ],
      [
        'a fractional rate limit',
        patched((m) => (m.rateLimits = { send: 1.5 })),
        [{ path: 'rateLimits', code: 'schema_invalid' }],
      ],
      [
        'rate limits that are a list',
        patched((m) => setRaw(m, 'rateLimits', [1])),
        [{ path: 'rateLimits', code: 'schema_invalid' }],
      ],
      ['no rate limit at all', patched((m) => (m.rateLimits = {})), []],
      [
        'too many rate limits',
        patched(
          (m) =>
            (m.rateLimits = Object.fromEntries(Array.from({ length: 65 }, (_, index) => [`op${index}`, 1]))),
        ),
        [{ path: 'rateLimits', code: 'schema_invalid' }],
      ],
      [
        'a config schema',
        patched(
          (m) =>
            (m.configSchema = { type: 'object', properties: { apiKey: { type: 'string', secret: true } } }),
        ),
        [],
      ],
      [
        'a config schema that is a list',
        patched((m) => setRaw(m, 'configSchema', [])),
        [{ path: 'configSchema', code: 'schema_invalid' }],
      ],
      [
        'a config schema nested 20 levels',
        patched((m) => {
          let deep: Record<string, unknown> = {};
          for (let level = 0; level < 20; level += 1) {
            deep = { nested: deep };
          }
          m.configSchema = deep;
        }),
        [{ path: 'configSchema', code: 'schema_invalid' }],
      ],
      [
        'a config schema over 64 KiB',
        patched((m) => (m.configSchema = { description: 'x'.repeat(70_000) })),
        [{ path: 'configSchema', code: 'schema_invalid' }],
      ],
    ];
    it.each(cases)('%s', (_name, input, expected) => {
      expect(verdict(input)).toEqual(expected);
    });

    it.each([[null], [[]], ['manifest'], [42]])('refuses %j as a whole', (input) => {
      expect(verdict(input)).toEqual([{ path: '', code: 'schema_invalid' }]);
    });

    it('says what is missing in plain words', () => {
      const [violation] = validateManifest(patched((m) => remove(m, 'healthCheck'))).violations;
      expect(violation).toEqual({
        path: 'healthCheck',
        code: 'schema_missing',
        message: 'healthCheck is required',
      });
    });
  });

  describe('traits', () => {
    it.each([
      'admin',
      'viewer',
      'operator',
      'security_admin',
      'ui.admin',
      'ui.plugins',
      'plugin_manager',
      'system_core',
      'system',
      'root',
    ])('refuses %s as blocked', (trait) => {
      expect(verdict(patched((m) => m.traits.push(trait)))).toEqual([
        { path: 'traits.2', code: 'trait_blocked' },
      ]);
    });

    it('refuses an unknown trait at its index', () => {
      expect(verdict(patched((m) => m.traits.unshift('superpowers')))).toEqual([
        { path: 'traits.0', code: 'trait_unknown' },
      ]);
    });

    it('refuses a trait whose requirements are missing', () => {
      expect(
        verdict(
          patched((m) => {
            m.traits = ['soc2_compliant', 'audit_required'];
          }),
        ),
      ).toEqual([{ path: 'traits', code: 'trait_requires' }]);
    });

    it('refuses conflicting traits', () => {
      expect(
        verdict(
          patched((m) => {
            m.traits = ['network_isolated', 'external_service'];
            m.allowedDomains = ['api.acme.io'];
          }),
        ),
      ).toEqual([{ path: 'traits', code: 'trait_conflicts' }]);
    });

    it('accepts a legacy alias as its real trait, with that trait’s rules', () => {
      expect(
        verdict(
          aPhiManifest((m) => (m.traits = ['hipaa_authorized', 'audit_required', 'encryption_required'])),
        ),
      ).toEqual([]);
      expect(verdict(patched((m) => (m.traits = ['pii_processor', 'audit_required'])))).toEqual([
        { path: 'security.dataClassification', code: 'classification_missing' },
      ]);
    });

    it('accepts a manifest without traits (default deny grants it nothing)', () => {
      expect(verdict(patched((m) => (m.traits = [])))).toEqual([]);
    });
  });

  describe('authentication and classifications', () => {
    it('refuses authenticationRequired false', () => {
      expect(verdict(patched((m) => (m.security.authenticationRequired = false)))).toEqual([
        { path: 'security.authenticationRequired', code: 'authentication_not_required' },
      ]);
    });

    it.each([
      ['handles_pii', 'pii'],
      ['handles_confidential', 'confidential'],
    ])('refuses %s without %s declared', (trait) => {
      expect(verdict(patched((m) => m.traits.push(trait, 'audit_required')))).toEqual([
        { path: 'security.dataClassification', code: 'classification_missing' },
      ]);
    });

    it.each(['pii', 'confidential'] as const)('refuses %s declared without its trait', (classification) => {
      expect(verdict(patched((m) => m.security.dataClassification.push(classification)))).toEqual([
        { path: 'traits', code: 'classification_trait_missing' },
      ]);
    });

    it('accepts PII with its trait, audit_required and the classification', () => {
      expect(
        verdict(
          patched((m) => {
            m.traits.push('handles_pii', 'audit_required');
            m.security.dataClassification.push('pii');
          }),
        ),
      ).toEqual([]);
    });
  });

  describe('PHI', () => {
    it('refuses handles_phi without phi declared', () => {
      expect(verdict(aPhiManifest((m) => (m.security.dataClassification = ['internal'])))).toEqual([
        { path: 'security.dataClassification', code: 'classification_missing' },
        { path: 'operations.0.classification.0', code: 'operation_classification_undeclared' },
      ]);
    });

    it('refuses phi declared without handles_phi, and asks for everything PHI needs', () => {
      expect(verdict(patched((m) => m.security.dataClassification.push('phi')))).toEqual([
        { path: 'traits', code: 'classification_trait_missing' },
        { path: 'traits', code: 'phi_trait_missing' },
        { path: 'traits', code: 'phi_trait_missing' },
        { path: 'compliance.hipaaControls', code: 'hipaa_controls_missing' },
        { path: 'compliance.dataRetentionDays', code: 'phi_retention_missing' },
      ]);
    });

    it('reports audit_required once: the vocabulary makes handles_phi require it', () => {
      expect(verdict(aPhiManifest((m) => (m.traits = ['handles_phi', 'encryption_required'])))).toEqual([
        { path: 'traits', code: 'trait_requires' },
      ]);
    });

    it('refuses PHI without encryption_required', () => {
      expect(verdict(aPhiManifest((m) => (m.traits = ['handles_phi', 'audit_required'])))).toEqual([
        { path: 'traits', code: 'phi_trait_missing' },
      ]);
    });

    it('refuses PHI without HIPAA controls', () => {
      expect(verdict(aPhiManifest((m) => (m.compliance.hipaaControls = [])))).toEqual([
        { path: 'compliance.hipaaControls', code: 'hipaa_controls_missing' },
      ]);
    });

    it('refuses PHI whose controls include no technical safeguard (164.312)', () => {
      expect(verdict(aPhiManifest((m) => (m.compliance.hipaaControls = ['164.308(a)(1)'])))).toEqual([
        { path: 'compliance.hipaaControls', code: 'hipaa_controls_missing' },
      ]);
    });

    it.each([
      [undefined, 'phi_retention_missing'],
      [0, 'phi_retention_too_short'],
      [2554, 'phi_retention_too_short'],
    ] as const)('refuses PHI retained %s days', (days, code) => {
      expect(verdict(aPhiManifest((m) => (m.compliance.dataRetentionDays = days)))).toEqual([
        { path: 'compliance.dataRetentionDays', code },
      ]);
    });

    it('accepts PHI retained 2555 days or more', () => {
      expect(verdict(aPhiManifest((m) => (m.compliance.dataRetentionDays = 3650)))).toEqual([]);
    });
  });

  describe('external services and domains', () => {
    it('refuses external_service without domains', () => {
      expect(verdict(patched((m) => m.traits.push('external_service')))).toEqual([
        { path: 'allowedDomains', code: 'external_domains_missing' },
      ]);
    });

    it('refuses domains without external_service', () => {
      expect(verdict(patched((m) => (m.allowedDomains = ['api.acme.io'])))).toEqual([
        { path: 'allowedDomains', code: 'domains_without_external_service' },
      ]);
    });

    it('reports each refused domain at its index, and every one of them', () => {
      expect(
        verdict(
          patched((m) => {
            m.traits.push('external_service');
            m.allowedDomains = [
              'api.acme.io',
              '10.0.0.1',
              'printer.local',
              '*.com',
              'api.*.acme.io',
              'xn--zz.com',
              '*.acme.io',
            ];
          }),
        ),
      ).toEqual([
        { path: 'allowedDomains.1', code: 'domain_ip_literal' },
        { path: 'allowedDomains.2', code: 'domain_reserved' },
        { path: 'allowedDomains.3', code: 'domain_wildcard_too_broad' },
        { path: 'allowedDomains.4', code: 'domain_wildcard_invalid' },
        { path: 'allowedDomains.5', code: 'domain_idn_invalid' },
      ]);
    });

    it('refuses the same domain written twice', () => {
      expect(
        verdict(
          patched((m) => {
            m.traits.push('external_service');
            m.allowedDomains = ['api.acme.io', 'API.Acme.io', 'bücher.de', 'xn--bcher-kva.de'];
          }),
        ),
      ).toEqual([
        { path: 'allowedDomains.1', code: 'domain_duplicate' },
        { path: 'allowedDomains.3', code: 'domain_duplicate' },
      ]);
    });
  });

  describe('delivery and health checks', () => {
    const http = (webhookUrl: string) => patched((m) => (m.delivery = { mode: 'http', webhookUrl }));

    it('refuses a webhook with credentials', () => {
      expect(verdict(http('https://user:secret@hooks.acme.io/in'))).toEqual([
        { path: 'delivery.webhookUrl', code: 'webhook_invalid' },
      ]);
    });

    it.each([
      ['https://127.0.0.1/in', 'domain_ip_literal'],
      ['https://2130706433/in', 'domain_ip_literal'],
      ['https://hooks.acme.internal/in', 'domain_reserved'],
      ['https://hooks.acme.io.nip.io/in', 'domain_reserved'],
    ] as const)('refuses the webhook %s by its host', (url, code) => {
      expect(verdict(http(url))).toContainEqual({ path: 'delivery.webhookUrl', code });
    });

    it('refuses a webhook on the loopback, in the schema and by its host', () => {
      expect(verdict(http('https://localhost/in'))).toEqual([
        { path: 'delivery.webhookUrl', code: 'schema_invalid' },
        { path: 'delivery.webhookUrl', code: 'domain_reserved' },
      ]);
    });

    it('refuses a webhook for nats delivery', () => {
      expect(verdict(patched((m) => (m.delivery.webhookUrl = 'https://hooks.acme.io/in')))).toEqual([
        { path: 'delivery.webhookUrl', code: 'webhook_unexpected' },
      ]);
    });

    it('refuses an http health check without http delivery', () => {
      expect(
        verdict(patched((m) => (m.healthCheck = { type: 'http', path: '/health', intervalSeconds: 30 }))),
      ).toEqual([{ path: 'healthCheck.type', code: 'health_check_http_without_webhook' }]);
    });

    it('accepts an http health check with http delivery', () => {
      expect(
        verdict(
          patched((m) => {
            m.delivery = { mode: 'http', webhookUrl: 'https://hooks.acme.io/in' };
            m.healthCheck = { type: 'http', path: '/health', intervalSeconds: 30 };
          }),
        ),
      ).toEqual([]);
    });

    it('refuses a path on a nats health check', () => {
      expect(verdict(patched((m) => (m.healthCheck.path = '/health')))).toEqual([
        { path: 'healthCheck.path', code: 'health_check_path_unexpected' },
      ]);
    });
  });

  describe('operations and events', () => {
    it('refuses an operation declared twice', () => {
      expect(verdict(patched((m) => m.operations.push({ ...m.operations[0] })))).toEqual([
        { path: 'operations.1.name', code: 'operation_duplicate' },
      ]);
    });

    it('refuses an unknown required trait, and accepts any known one', () => {
      expect(
        verdict(patched((m) => (m.operations[0].requiredTraits = ['admin', 'wizard', 'system']))),
      ).toEqual([
        { path: 'operations.0.requiredTraits.1', code: 'operation_trait_unknown' },
        { path: 'operations.0.requiredTraits.2', code: 'operation_trait_unknown' },
      ]);
    });

    it('refuses an operation classification the plugin does not declare', () => {
      expect(verdict(patched((m) => (m.operations[0].classification = ['internal', 'pii'])))).toEqual([
        { path: 'operations.0.classification.1', code: 'operation_classification_undeclared' },
      ]);
    });

    it('refuses one event type with two versions', () => {
      expect(
        verdict(
          patched((m) => (m.events.subscribes = ['UserCreated@1.0', 'UserCreated@2.0', 'UserCreated'])),
        ),
      ).toEqual([
        { path: 'events.subscribes.1', code: 'event_version_conflict' },
        { path: 'events.subscribes.2', code: 'event_version_conflict' },
      ]);
    });
  });

  describe('resources', () => {
    it.each([
      ['memoryMb', 63],
      ['memoryMb', 8193],
      ['cpu', 0.05],
      ['cpu', 8.5],
    ] as const)('refuses %s %s', (key, value) => {
      expect(verdict(patched((m) => (m.resources[key] = value)))).toEqual([
        { path: `resources.${key}`, code: 'resources_out_of_bounds' },
      ]);
    });

    it.each([
      [64, 0.1],
      [8192, 8],
    ])('accepts %s MiB and %s cores', (memoryMb, cpu) => {
      expect(verdict(patched((m) => (m.resources = { memoryMb, cpu })))).toEqual([]);
    });
  });

  describe('dependencies', () => {
    const depending = patched((m) => (m.dependencies = ['acme-core', 'acme-notifier', 'acme-ghost']));

    it('refuses a self-dependency and unknown plugins (a set of ids)', () => {
      expect(verdict(depending, { knownPluginIds: new Set(['acme-core']) })).toEqual([
        { path: 'dependencies.1', code: 'dependency_self' },
        { path: 'dependencies.2', code: 'dependency_unknown' },
      ]);
    });

    it('asks a predicate when given one', () => {
      const asked: string[] = [];
      const known = (id: string) => {
        asked.push(id);

        return id !== 'acme-ghost';
      };
      expect(verdict(depending, { knownPluginIds: known })).toEqual([
        { path: 'dependencies.1', code: 'dependency_self' },
        { path: 'dependencies.2', code: 'dependency_unknown' },
      ]);
      expect(asked).toEqual(['acme-core', 'acme-ghost']);
    });

    it('checks only the self-dependency without known ids', () => {
      expect(verdict(depending)).toEqual([{ path: 'dependencies.1', code: 'dependency_self' }]);
    });
  });

  it('lists every violation in one answer: schema first, then the security rules in order', () => {
    const input = aManifest((m) => {
      remove(m, 'version');
      setRaw(m, 'host', 'plugin:8080');
      m.traits = ['admin', 'handles_phi', 'external_service'];
      m.allowedDomains = ['192.168.1.10'];
      m.security.authenticationRequired = false;
      m.resources.memoryMb = 16_384;
      m.dependencies = ['acme-notifier'];
    });
    const violations = validateManifest(input).violations;
    expect(violations.map(({ path, code }) => `${code} ${path}`)).toEqual([
      'schema_unknown_field host',
      'schema_missing version',
      'trait_blocked traits.0',
      'trait_requires traits',
      'authentication_not_required security.authenticationRequired',
      'classification_missing security.dataClassification',
      'phi_trait_missing traits',
      'hipaa_controls_missing compliance.hipaaControls',
      'phi_retention_missing compliance.dataRetentionDays',
      'domain_ip_literal allowedDomains.0',
      'resources_out_of_bounds resources.memoryMb',
      'dependency_self dependencies.0',
    ]);
    for (const violation of violations) {
      expect(manifestViolationCodes).toContain(violation.code);
      expect(violation.message.length).toBeGreaterThan(0);
    }
  });

  it('does not change its input', () => {
    const input = aManifest((m) => (m.allowedDomains = ['Bücher.de']));
    const copy = structuredClone(input);
    validateManifest(input);
    expect(input).toEqual(copy);
  });
});
