import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { dynamicSubjects } from '../subjects';
import {
  configSchemaProblem,
  EVENT_TYPE_PATTERN,
  OPERATION_NAME_PATTERN,
  PLUGIN_ID_PATTERN,
  rateLimitsProblem,
  SEMVER_PATTERN,
} from './manifest';

describe('manifest patterns', () => {
  it('make valid subject tokens: every plugin id, operation and event type builds its subjects (property)', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(PLUGIN_ID_PATTERN),
        fc.stringMatching(OPERATION_NAME_PATTERN),
        fc.stringMatching(EVENT_TYPE_PATTERN),
        (pluginId, operation, eventType) => {
          expect(dynamicSubjects.pluginRpc(pluginId, operation)).toBe(
            `vivified.v1.plugin.${pluginId}.rpc.${operation}`,
          );
          expect(dynamicSubjects.pluginInboxPrefix(pluginId)).toBe(`_INBOX_${pluginId}`);
          const [type] = eventType.split('@');
          expect(dynamicSubjects.publishEvent(type)).toBe(`vivified.v1.events.publish.${type}`);
        },
      ),
      { numRuns: 500 },
    );
  });

  it.each(['UserCreated', 'PatientRecordAccessed@1.0', 'acme.invoice.paid', 'acme.invoice.paid@12.3', 'a.b'])(
    'accepts the event type %s',
    (eventType) => {
      expect(EVENT_TYPE_PATTERN.test(eventType)).toBe(true);
    },
  );

  it.each([
    'userCreated',
    'acme',
    'acme.Invoice',
    'acme..paid',
    'acme.*',
    'acme.>',
    'UserCreated@1',
    'UserCreated@01.0',
    'a.b.c.d.e.f.g',
  ])('refuses the event type %s', (eventType) => {
    expect(EVENT_TYPE_PATTERN.test(eventType)).toBe(false);
  });

  it.each([
    ['1.0.0', true],
    ['0.1.0-alpha.1', true],
    ['2.0.0-rc.1+build.7', true],
    ['1.0', false],
    ['v1.0.0', false],
    ['1.0.0-', false],
    ['1.0.0-01', false],
  ])('semver %s: %s', (version, valid) => {
    expect(SEMVER_PATTERN.test(version)).toBe(valid);
  });
});

describe(rateLimitsProblem.name, () => {
  it.each([[{}], [{ send: 0 }], [{ 'events.publish': 1_000_000, get_user: 60 }]])('accepts %j', (value) => {
    expect(rateLimitsProblem(value)).toBeUndefined();
  });

  it.each([
    [null, /object/],
    [[], /object/],
    [{ Send: 1 }, /invalid name/],
    [{ send: 1_000_001 }, /integer from 0/],
    [{ send: '10' }, /integer from 0/],
    [Object.fromEntries(Array.from({ length: 65 }, (_, index) => [`n${index}`, 1])), /at most 64/],
  ])('refuses %j', (value, problem) => {
    expect(rateLimitsProblem(value)).toMatch(problem);
  });
});

describe(configSchemaProblem.name, () => {
  it('accepts a JSON Schema object', () => {
    expect(
      configSchemaProblem({
        type: 'object',
        required: ['url'],
        properties: { url: { type: 'string', format: 'uri' } },
      }),
    ).toBeUndefined();
  });

  it.each([
    [[], /JSON object/],
    [{ when: new Date() }, /not JSON/],
    [{ n: Number.NaN }, /not finite/],
    [{ constructor: {} }, /forbidden key/],
    [{ big: 'x'.repeat(70_000) }, /bytes/],
  ])('refuses %j', (value, problem) => {
    expect(configSchemaProblem(value)).toMatch(problem);
  });
});
