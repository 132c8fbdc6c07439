import { join } from 'node:path';

import type { PluginManifest } from '@vivified/contracts';
import Ajv2020 from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';

import { aManifest, remove, setRaw } from '../testing/manifest-builder';
import { buildManifestJsonSchema, renderManifestJsonSchema } from './manifest-json-schema';

const contracts = join(__dirname, '..', '..', '..', 'contracts');
const source = join(contracts, 'src', 'registry', 'manifest.ts');
const schemaFile = join(contracts, 'schemas', 'manifest.schema.json');

type Schema = {
  properties: Record<string, Record<string, unknown>>;
  required: string[];
  additionalProperties: boolean;
  description?: string;
};

describe('manifest.schema.json', () => {
  // Regenerate after changing the manifest classes:
  //   npx vitest run libs/plugin-manifest/src/schema-gen --update
  it('is the committed file, byte for byte (a stale schema fails CI)', async () => {
    await expect(await renderManifestJsonSchema(source, schemaFile)).toMatchFileSnapshot(schemaFile);
  });

  it('is deterministic: two generations are identical', async () => {
    expect(await renderManifestJsonSchema(source, schemaFile)).toBe(
      await renderManifestJsonSchema(source, schemaFile),
    );
  });

  it('is draft 2020-12, closed at every level, with a description on every class and field', () => {
    const schema = buildManifestJsonSchema(source) as unknown as Schema & {
      $schema: string;
      $defs: Record<string, Schema>;
    };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    const all = { PluginManifest: schema, ...schema.$defs };
    expect(Object.keys(all).sort()).toEqual([
      'ManifestCompliance',
      'ManifestDelivery',
      'ManifestEvents',
      'ManifestHealthCheck',
      'ManifestOperation',
      'ManifestResources',
      'ManifestSecurity',
      'PluginManifest',
    ]);
    for (const [name, definition] of Object.entries(all)) {
      expect(definition.additionalProperties, name).toBe(false);
      expect(definition.description, name).toEqual(expect.any(String));
      for (const [property, propertySchema] of Object.entries(definition.properties)) {
        expect(propertySchema.description, `${name}.${property}`).toEqual(expect.any(String));
      }
    }
  });

  it('lists the required top-level fields and keeps the optional ones optional', () => {
    const schema = buildManifestJsonSchema(source) as unknown as Schema & { $defs: Record<string, Schema> };
    expect(schema.required).toEqual([
      'allowedDomains',
      'compliance',
      'contracts',
      'delivery',
      'dependencies',
      'description',
      'events',
      'healthCheck',
      'id',
      'name',
      'operations',
      'rateLimits',
      'resources',
      'security',
      'traits',
      'version',
    ]);
    expect(schema.$defs.ManifestOperation.required).toEqual([
      'classification',
      'description',
      'name',
      'requiredTraits',
    ]);
    expect(schema.$defs.ManifestCompliance.required).toEqual(['auditLevel', 'hipaaControls']);
    expect(schema.properties.id.pattern).toBe('^[a-z][a-z0-9-]{2,62}$');
    expect(schema.properties.rateLimits).toMatchObject({
      type: 'object',
      additionalProperties: { type: 'integer', minimum: 0 },
    });
    expect(schema.$defs.ManifestDelivery).toMatchObject({ then: { required: ['webhookUrl'] } });
    expect(schema.$defs.ManifestOperation.properties.idempotent.default).toBe(false);
  });
});

describe('manifest.schema.json for authors in other languages', () => {
  const validate = new Ajv2020({ strict: true, strictRequired: false, validateFormats: false }).compile(
    buildManifestJsonSchema(source),
  );
  const variant = (patch: (manifest: PluginManifest) => void) => aManifest(patch);

  // the JSON Schema says what the class-validator schema says about shape (semantic rules are the validator's)
  it.each([
    ['a valid manifest', aManifest(), true],
    ['a missing id', variant((m) => remove(m, 'id')), false],
    ['an id with capitals', variant((m) => (m.id = 'Acme')), false],
    ['a pre-release version', variant((m) => (m.version = '1.0.0-rc.1')), true],
    ['a version without patch', variant((m) => (m.version = '1.0')), false],
    ['an unknown field', variant((m) => setRaw(m, 'endpoints', {})), false],
    ['an unknown nested field', variant((m) => setRaw(m.resources, 'disk', 1)), false],
    ['a duplicate trait', variant((m) => m.traits.push(m.traits[0])), false],
    [
      'an unknown classification',
      variant((m) => setRaw(m.security, 'dataClassification', ['secret'])),
      false,
    ],
    ['http delivery without webhook', variant((m) => (m.delivery = { mode: 'http' })), false],
    [
      'a plain-http webhook',
      variant((m) => (m.delivery = { mode: 'http', webhookUrl: 'http://a.acme.io/' })),
      false,
    ],
    [
      'an https webhook',
      variant((m) => (m.delivery = { mode: 'http', webhookUrl: 'https://a.acme.io/' })),
      true,
    ],
    [
      'an http health check without path',
      variant((m) => (m.healthCheck = { type: 'http', intervalSeconds: 30 })),
      false,
    ],
    ['a bad rate-limit name', variant((m) => (m.rateLimits = { 'Send Now': 1 })), false],
    ['a fractional rate limit', variant((m) => (m.rateLimits = { send: 0.5 })), false],
    ['a bad event type', variant((m) => (m.events.publishes = ['acme.>'])), false],
    [
      'a versioned namespaced event type',
      variant((m) => (m.events.publishes = ['acme.invoice.paid@1.0'])),
      true,
    ],
    ['a bad HIPAA control', variant((m) => (m.compliance.hipaaControls = ['164.312'])), false],
    ['a config schema', variant((m) => (m.configSchema = { type: 'object' })), true],
  ] as const)('%s: valid is %s', (_name, manifest, valid) => {
    expect(validate(JSON.parse(JSON.stringify(manifest)))).toBe(valid);
  });
});
