import { describe, expect, it } from 'vitest';

import { validatePayload } from '../validation';
import type { ConfigCatalog } from './config.rpc';
import {
  configCatalogProblems,
  configChangeProblems,
  ConfigPutRequest,
  configValueProblem,
  platformConfigCatalog,
} from './config.rpc';

const catalog: ConfigCatalog = {
  'audit.retention_days': {
    type: 'integer',
    default: 2555,
    min: 2555,
    max: 36_500,
    sensitive: false,
    readers: ['audit'],
    description: 'retention',
  },
  'ui.theme': {
    type: 'string',
    enum: ['light', 'dark'],
    default: 'light',
    sensitive: false,
    readers: ['console'],
    description: 'theme',
  },
  'mail.smtp_password': {
    type: 'string',
    sensitive: true,
    readers: ['notifier'],
    description: 'secret',
  },
};

describe('platformConfigCatalog', () => {
  it('has valid keys, defaults that fit, a reader for every key and no default for a secret', () => {
    expect(configCatalogProblems(platformConfigCatalog)).toEqual([]);
  });

  it('keeps the predecessor defaults of its ui flags', () => {
    expect(platformConfigCatalog['ui.admin_console.enabled'].default).toBe(true);
    expect(platformConfigCatalog['ui.plugins.enabled'].default).toBe(true);
    expect(platformConfigCatalog['ui.plugin_install.enabled'].default).toBe(false);
    expect('default' in platformConfigCatalog['ui.docs.base']).toBe(false);
  });
});

describe(configCatalogProblems.name, () => {
  it('names every problem of a catalog', () => {
    expect(
      configCatalogProblems({
        'Bad Key': { type: 'boolean', default: true, sensitive: false, readers: ['x'], description: '' },
        'a.low': {
          type: 'integer',
          default: 1,
          min: 5,
          sensitive: false,
          readers: ['x'],
          description: '',
        },
        'a.secret': { type: 'string', default: 's', sensitive: true, readers: ['x'], description: '' },
        'a.unread': { type: 'boolean', default: false, sensitive: false, readers: [], description: '' },
      }),
    ).toEqual([
      'Bad Key: not a valid key',
      'a.low: default must be at least 5',
      'a.secret: a sensitive key has no default',
      'a.unread: nobody reads it',
    ]);
  });
});

describe(configValueProblem.name, () => {
  const spec = (key: string) => catalog[key];

  it.each([
    ['audit.retention_days', 2555, undefined],
    ['audit.retention_days', 2554, 'must be at least 2555'],
    ['audit.retention_days', 36_501, 'must be at most 36500'],
    ['audit.retention_days', 2555.5, 'must be an integer'],
    ['audit.retention_days', '2555', 'must be an integer'],
    ['ui.theme', 'dark', undefined],
    ['ui.theme', 'blue', 'must be one of light, dark'],
    ['ui.theme', '', 'must have 1 to 2000 characters'],
    ['mail.smtp_password', 'hunter2', undefined],
    ['mail.smtp_password', 'a\u0000b', 'must not contain NUL characters'],
    ['audit.retention_days', null, undefined],
  ])('%s = %j → %s', (key, value, problem) => {
    expect(configValueProblem(spec(key), value)).toBe(problem);
  });

  it('checks booleans and https URLs', () => {
    const docs = platformConfigCatalog['ui.docs.base'];
    expect(configValueProblem(platformConfigCatalog['ui.plugins.enabled'], 'true')).toBe('must be a boolean');
    expect(configValueProblem(docs, 'https://docs.example.org/vivified')).toBeUndefined();
    expect(configValueProblem(docs, 'http://docs.example.org')).toBe(
      'must be an https URL without credentials',
    );
    expect(configValueProblem(docs, 'https://user:pw@docs.example.org')).toBe(
      'must be an https URL without credentials',
    );
    expect(configValueProblem(docs, 'not a url')).toBe('must be an https URL without credentials');
    expect(configValueProblem(docs, `https://x.org/${'a'.repeat(500)}`)).toBe(
      'must have 1 to 500 characters',
    );
  });
});

describe(configChangeProblems.name, () => {
  it('accepts known keys with fitting values, null included', () => {
    expect(configChangeProblems(catalog, { 'ui.theme': 'dark', 'audit.retention_days': null })).toEqual([]);
  });

  it('lists every unknown key and misfit value, one entry per key, naming the key', () => {
    expect(
      configChangeProblems(catalog, {
        'ui.theme': 'blue',
        'ui.unknown': true,
        toString: 1,
        'audit.retention_days': 10,
      }),
    ).toEqual([
      { path: 'values.ui.theme', messages: ['must be one of light, dark'] },
      { path: 'values.ui.unknown', messages: ['unknown config key "ui.unknown"'] },
      { path: 'values.toString', messages: ['unknown config key "toString"'] },
      { path: 'values.audit.retention_days', messages: ['must be at least 2555'] },
    ]);
  });

  it('refuses an empty change', () => {
    expect(configChangeProblems(catalog, {})).toEqual([
      { path: 'values', messages: ['must name at least one key'] },
    ]);
  });
});

describe(ConfigPutRequest.name, () => {
  it('accepts scalar values and null', () => {
    expect(
      validatePayload(ConfigPutRequest, { values: { 'a.b': true, 'a.c': 1, 'a.d': 's', 'a.e': null } }).ok,
    ).toBe(true);
  });

  it.each([
    { values: { 'a.b': { nested: true } } },
    { values: { 'a.b': [1] } },
    { values: [] },
    { values: 'x' },
    { values: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`a.k${i}`, true])) },
    { values: {}, expectedVersion: -1 },
    { values: {}, reason: '' },
  ])('refuses %j', (body) => {
    expect(validatePayload(ConfigPutRequest, body).ok).toBe(false);
  });
});
