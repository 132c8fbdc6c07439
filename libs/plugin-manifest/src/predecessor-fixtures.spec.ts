import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { PluginManifest } from '@vivified/contracts';
import Ajv2020 from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';

import { sensitiveRequests } from './sensitive-requests';
import { validateManifest } from './validate-manifest';

/** One of the predecessor's example manifests, translated to our shape, with the verdict we expect. */
interface Fixture {
  source: string;
  predecessorVerdict: string;
  translation: string[];
  expected: { ok: boolean; violations: Array<{ path: string; code: string }>; notes: string };
  manifest: Record<string, unknown>;
}

const fixturesDir = join(__dirname, '..', 'test', 'fixtures');
const fixtures = readdirSync(fixturesDir)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map(
    (file) =>
      [
        file.replace(/\.json$/, ''),
        JSON.parse(readFileSync(join(fixturesDir, file), 'utf8')) as Fixture,
      ] as const,
  );
const schema = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'contracts', 'schemas', 'manifest.schema.json'), 'utf8'),
) as object;

describe('the predecessor’s seven example manifests (predecessor-inventory §3.3)', () => {
  it('are all here, each documented', () => {
    expect(fixtures.map(([name]) => name)).toEqual([
      'apprise-notifier',
      'example-plugin',
      'example-user-management',
      'llm-generic',
      'patient-record-manager',
      'pushover-notifier',
      'user-management',
    ]);
    for (const [name, fixture] of fixtures) {
      expect(fixture.manifest.id, name).toBe(name);
      expect(fixture.source, name).toMatch(/^claude-test:/);
      expect(fixture.predecessorVerdict.length, name).toBeGreaterThan(0);
      expect(fixture.expected.notes.length, name).toBeGreaterThan(0);
    }
  });

  it.each(fixtures)(
    '%s gets its documented verdict, with exactly the documented violations',
    (_name, fixture) => {
      const result = validateManifest(fixture.manifest);
      expect(result.violations.map(({ path, code }) => ({ path, code }))).toEqual(
        fixture.expected.violations,
      );
      expect(result.ok).toBe(fixture.expected.ok);
    },
  );

  it.each(fixtures)('%s: the JSON Schema agrees with the class-validator schema', (_name, fixture) => {
    const validate = new Ajv2020({
      strict: true,
      strictRequired: false,
      validateFormats: false,
      allErrors: true,
    }).compile(schema);
    const schemaViolations = validateManifest(fixture.manifest).violations.filter(({ code }) =>
      code.startsWith('schema_'),
    );
    expect(validate(fixture.manifest)).toBe(schemaViolations.length === 0);
  });

  it('the ones that pass ask for approval exactly when they ask for something sensitive', () => {
    const passing = Object.fromEntries(
      fixtures
        .filter(([, fixture]) => fixture.expected.ok)
        .map(([name, fixture]) => [name, sensitiveRequests(fixture.manifest as unknown as PluginManifest)]),
    );
    expect(passing).toEqual({
      'example-plugin': { traits: [], domains: [], requiresApproval: false },
      'pushover-notifier': {
        traits: ['external_service'],
        domains: ['api.pushover.net'],
        requiresApproval: true,
      },
      'user-management': { traits: ['handles_pii'], domains: [], requiresApproval: true },
    });
  });
});
