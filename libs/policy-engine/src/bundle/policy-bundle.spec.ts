import { describe, expect, it } from 'vitest';

import { domainMatches, domainPatternProblem, hostProblem, normalizeHost } from './domains';
import { emptyBundle, maxBreakGlassMs, validateAdminRules, validateBundle } from './policy-bundle';

const NOW = Date.parse('2026-03-01T10:00:00Z');
const grant = (overrides: Record<string, unknown> = {}) => ({
  type: 'break_glass',
  id: 'inc-1',
  principalId: '6f1c2d3e-0000-4000-8000-000000000001',
  classifications: ['phi'],
  expiresAt: '2026-03-01T12:00:00Z',
  reason: 'ER outage',
  ...overrides,
});

describe(validateAdminRules.name, () => {
  it('accepts the example body of PUT /v1/policy/rules (ARCHITECTURE §7)', () => {
    const body = JSON.parse(
      '{"rules":[{"type":"operator","caller":"a","target":"b","operations":["get_user"]},' +
        '{"type":"proxy","plugin":"a","domains":["api.example.org"]}]}',
    ) as { rules: unknown };
    expect(validateAdminRules(body.rules)).toEqual([]);
  });

  it('accepts a time-boxed grant', () => {
    expect(validateAdminRules([grant()], { now: NOW })).toEqual([]);
    expect(validateAdminRules([grant({ startsAt: '2026-03-01T09:00:00Z', grantedBy: 'admin-1' })])).toEqual(
      [],
    );
  });

  it.each<[string, unknown, string[]]>([
    ['not an array', { rules: [] }, ['rules']],
    ['not an object', ['operator'], ['rules[0]']],
    ['unknown type', [{ type: 'allow_all' }], ['rules[0].type']],
    [
      'unknown field',
      [{ type: 'proxy', plugin: 'mailer', domains: ['api.example.org'], methods: ['GET'] }],
      ['rules[0].methods'],
    ],
    [
      'bad plugin ids',
      [{ type: 'operator', caller: 'A', target: '', operations: ['x'] }],
      ['rules[0].caller', 'rules[0].target'],
    ],
    [
      'a plugin calling itself',
      [{ type: 'operator', caller: 'crm-sync', target: 'crm-sync', operations: ['x'] }],
      ['rules[0].target'],
    ],
    [
      'no operations',
      [{ type: 'operator', caller: 'crm-sync', target: 'user-dir', operations: [] }],
      ['rules[0].operations'],
    ],
    [
      'wildcard operation',
      [{ type: 'operator', caller: 'crm-sync', target: 'user-dir', operations: ['*', 'a.b', 7] }],
      ['rules[0].operations[0]', 'rules[0].operations[1]', 'rules[0].operations[2]'],
    ],
    [
      'duplicate operation',
      [{ type: 'operator', caller: 'crm-sync', target: 'user-dir', operations: ['x', 'x'] }],
      ['rules[0].operations[1]'],
    ],
    [
      'two rules for one pair',
      [
        { type: 'operator', caller: 'crm-sync', target: 'user-dir', operations: ['x'] },
        { type: 'operator', caller: 'crm-sync', target: 'user-dir', operations: ['y'] },
      ],
      ['rules[1]'],
    ],
    ['no domains', [{ type: 'proxy', plugin: 'mailer', domains: [] }], ['rules[0].domains']],
    [
      'bad domains',
      [
        {
          type: 'proxy',
          plugin: 'mailer',
          domains: [
            'localhost',
            '10.0.0.1',
            '[::1]',
            'API.example.org',
            '*.com',
            '*.co.uk',
            '*.github.io',
            'a.*.example.org',
            'db.internal',
            'x.onion',
            'bad_label.example.org',
          ],
        },
      ],
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((i) => `rules[0].domains[${i}]`),
    ],
    [
      'two proxy rules for one plugin',
      [
        { type: 'proxy', plugin: 'mailer', domains: ['a.example.org'] },
        { type: 'proxy', plugin: 'mailer', domains: ['b.example.org'] },
      ],
      ['rules[1]'],
    ],
    ['grant without reason', [grant({ reason: '  ' })], ['rules[0].reason']],
    [
      'grant for everything',
      [grant({ classifications: ['phi', 'public'] })],
      ['rules[0].classifications[1]'],
    ],
    ['grant without a user', [grant({ principalId: 'user:x y' })], ['rules[0].principalId']],
    ['grant without an end', [grant({ expiresAt: 'tomorrow' })], ['rules[0].expiresAt']],
    ['grant ending before it starts', [grant({ startsAt: '2026-03-01T13:00:00Z' })], ['rules[0].expiresAt']],
    ['grant longer than a day', [grant({ startsAt: '2026-02-27T12:00:00Z' })], ['rules[0].expiresAt']],
    ['duplicate grant id', [grant(), grant()], ['rules[1].id']],
  ])('reports %s', (_name, rules, paths) => {
    expect(validateAdminRules(rules).map((problem) => problem.path)).toEqual(paths);
  });

  it('checks grants against the time of validation', () => {
    expect(validateAdminRules([grant()], { now: Date.parse('2026-03-01T12:00:00Z') })).toEqual([
      { index: 0, path: 'rules[0].expiresAt', message: 'must be after the start' },
      { index: 0, path: 'rules[0].expiresAt', message: 'has already passed' },
    ]);
    expect(
      validateAdminRules([grant()], { now: Date.parse('2026-03-01T12:00:00Z') - maxBreakGlassMs - 1 }),
    ).toEqual([
      { index: 0, path: 'rules[0].expiresAt', message: 'a break-glass grant lasts at most 24 hours' },
    ]);
  });

  it('reports every problem of every rule', () => {
    const problems = validateAdminRules([
      { type: 'operator', caller: 'X', target: 'y', operations: [] },
      { type: 'proxy', plugin: 'mailer', domains: ['*.com'] },
      grant({ reason: '' }),
    ]);
    expect(problems.map((problem) => problem.index)).toEqual([0, 0, 1, 2]);
  });
});

describe(validateBundle.name, () => {
  it('accepts the empty bundle and refuses a bad version or timestamp', () => {
    expect(validateBundle(emptyBundle())).toEqual([]);
    expect(
      validateBundle({ version: -1, createdAt: 'now', rules: [] }).map((problem) => problem.path),
    ).toEqual(['version', 'createdAt']);
    expect(validateBundle(null)).toHaveLength(1);
  });
});

describe('domains', () => {
  it.each([
    ['api.example.org', undefined],
    ['xn--bcher-kva.example', '.example names are internal or reserved'],
    ['localhost', 'a host name needs a registrable domain (two labels or more)'],
    ['printer.local', '.local names are internal or reserved'],
    ['1.2.3.4', 'IP literals and numeric top-level labels are not allowed'],
    ['0x7f.1', 'IP literals and numeric top-level labels are not allowed'],
    ['::1', 'IP literals are not allowed'],
    ['-a.example.org', 'invalid label "-a"'],
    ['a-.example.org', 'invalid label "a-"'],
    ['a..example.org', 'invalid label ""'],
    [`${'a'.repeat(64)}.example.org`, `invalid label "${'a'.repeat(64)}"`],
  ])('host %s → %s', (host, problem) => {
    expect(hostProblem(host)).toBe(problem);
  });

  it('normalizes case and one trailing dot', () => {
    expect(normalizeHost('API.Example.Org.')).toBe('api.example.org');
  });

  it('accepts a wildcard only below a registrable domain', () => {
    expect(domainPatternProblem('*.example.org')).toBeUndefined();
    expect(domainPatternProblem('*.eu.example.co.uk')).toBeUndefined();
    expect(domainPatternProblem('*.example.co.uk')).toBeUndefined();
    expect(domainPatternProblem('*.co.uk')).toMatch(/public suffix/);
    expect(domainPatternProblem('*.org')).toMatch(/two labels/);
    expect(domainPatternProblem('*')).toMatch(/first label/);
    expect(domainPatternProblem('api.*.org')).toMatch(/first label/);
  });

  it('matches exactly, or one label below a wildcard', () => {
    expect(domainMatches('api.example.org', 'api.example.org')).toBe(true);
    expect(domainMatches('api.example.org', 'x.api.example.org')).toBe(false);
    expect(domainMatches('*.example.org', 'api.example.org')).toBe(true);
    expect(domainMatches('*.example.org', 'example.org')).toBe(false);
    expect(domainMatches('*.example.org', 'a.b.example.org')).toBe(false);
    expect(domainMatches('*.example.org', 'badexample.org')).toBe(false);
    expect(domainMatches('*.example.org', '.example.org')).toBe(false);
  });
});
