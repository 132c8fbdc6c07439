import { domainPatternProblem } from '@vivified/policy-engine';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { domainProblem, normalizeDomain } from './domains';
import { aManifest } from './testing/manifest-builder';
import { validateManifest } from './validate-manifest';

const codeOf = (domain: string, allowWildcard = true) => domainProblem(domain, { allowWildcard })?.code;

/** Every IPv4 notation a URL or socket parser accepts, for one 32-bit address. */
function ipv4Notations(): fc.Arbitrary<string> {
  const part = (value: number, bits: number) =>
    fc.constantFrom('decimal', 'hex', 'HEX', 'octal', 'padded').map((notation) => {
      const bounded = value % 2 ** bits;
      switch (notation) {
        case 'decimal':
          return String(bounded);
        case 'hex':
          return `0x${bounded.toString(16)}`;
        case 'HEX':
          return `0X${bounded.toString(16).toUpperCase()}`;
        case 'octal':
          return `0${bounded.toString(8)}`;
        case 'padded':
          return `0x00${bounded.toString(16)}`;
      }
    });
  const address = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));

  return fc.oneof(
    fc.ipV4(),
    fc.ipV4Extended(),
    address.chain(([a, b, c, d]) => part(((a << 24) | (b << 16) | (c << 8) | d) >>> 0, 32)),
    address.chain(([a, b, c, d]) =>
      fc.tuple(part(a, 8), part((b << 16) | (c << 8) | d, 24)).map((parts) => parts.join('.')),
    ),
    address.chain(([a, b, c, d]) =>
      fc.tuple(part(a, 8), part(b, 8), part((c << 8) | d, 16)).map((parts) => parts.join('.')),
    ),
    address.chain(([a, b, c, d]) =>
      fc.tuple(part(a, 8), part(b, 8), part(c, 8), part(d, 8)).map((parts) => parts.join('.')),
    ),
  );
}

describe(domainProblem.name, () => {
  it.each([
    'api.openai.com',
    'api.pushover.net',
    'a.co',
    'jsonplaceholder.typicode.com',
    'API.Acme-Corp.io',
    'xn--bcher-kva.de',
    'bücher.de',
    'münchen.de',
    '例え.jp',
    'παράδειγμα.gr',
    'пример.рф',
    '*.acme.io',
    '*.acme.co.uk',
    '*.bücher.de',
    `${'a'.repeat(63)}.com`,
    `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(61)}.io`,
  ])('accepts %s', (domain) => {
    expect(domainProblem(domain)).toBeUndefined();
  });

  it.each([
    '127.0.0.1',
    '0.0.0.0',
    '10.0.0.1',
    '192.168.1.10',
    '172.16.0.1',
    '169.254.169.254',
    '2130706433',
    '0x7f000001',
    '0X7F000001',
    '0177.0.0.1',
    '127.1',
    '0x7f.1',
    '017700000001',
    '１２７.０.０.１',
    '::1',
    '[::1]',
    '::ffff:127.0.0.1',
    '[::ffff:7f00:1]',
    'fe80::1',
    '[fe80::1%25eth0]',
    'fe80::1%eth0',
    '*.10.0.0.1',
    'api.acme.0x1',
    'api.acme.123',
  ])('refuses the IP literal %s', (domain) => {
    expect(codeOf(domain)).toBe('domain_ip_literal');
  });

  it.each([
    'localhost',
    'LOCALHOST',
    'api.localhost',
    '*.localhost',
    'printer.local',
    'db.internal',
    'metadata.google.internal',
    'nas.lan',
    'router.home',
    'nas.home.arpa',
    '1.0.0.127.in-addr.arpa',
    'files.corp',
    'box.intranet',
    'server.localdomain',
    'vault.private',
    'duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion',
    'a.test',
    'www.example',
    'a.invalid',
    'foo.alt',
    'example.com',
    'api.example.com',
    'api.example.org',
    'example.net',
    '*.example.com',
    '127.0.0.1.nip.io',
    'acme.sslip.io',
    'app.localtest.me',
    'api.lvh.me',
  ])('refuses the internal or reserved name %s', (domain) => {
    expect(codeOf(domain)).toBe('domain_reserved');
  });

  it.each([
    '',
    'a'.repeat(254),
    `${'a'.repeat(64)}.com`,
    '-api.acme.io',
    'api-.acme.io',
    'api..acme.io',
    '.acme.io',
    'api.acme.io.',
    'a_b.acme.io',
    'api acme.io',
    ' api.acme.io',
    'https://api.acme.io',
    'api.acme.io/path',
    'api%2eacme.io',
    'user@acme.io',
    'acme',
    'intranet-host',
    'acme.i0',
    'ab--cd.acme.io',
    'api.acme.io\n',
  ])('refuses the malformed name %j', (domain) => {
    expect(codeOf(domain)).toBe('domain_invalid');
  });

  it.each([
    ['*', 'domain_wildcard_too_broad'],
    ['*.', 'domain_wildcard_too_broad'],
    ['*.com', 'domain_wildcard_too_broad'],
    ['*.io', 'domain_wildcard_too_broad'],
    ['*.co.uk', 'domain_wildcard_too_broad'],
    ['*.github.io', 'domain_wildcard_too_broad'],
    ['*.xn--p1ai', 'domain_wildcard_too_broad'],
    ['**.acme.io', 'domain_wildcard_invalid'],
    ['*.*.acme.io', 'domain_wildcard_invalid'],
    ['api.*.acme.io', 'domain_wildcard_invalid'],
    ['*acme.io', 'domain_wildcard_invalid'],
    ['api.acme.*', 'domain_wildcard_invalid'],
    ['a*.acme.io', 'domain_wildcard_invalid'],
  ] as const)('refuses the wildcard %s (%s)', (domain, code) => {
    expect(codeOf(domain)).toBe(code);
  });

  it('refuses any wildcard where a host is to be connected to', () => {
    expect(codeOf('*.acme.io', false)).toBe('domain_wildcard_invalid');
    expect(codeOf('api.acme.io', false)).toBeUndefined();
  });

  it.each([
    ['xn--zz.com', 'domain_idn_invalid'],
    ['xn--a.com', 'domain_idn_invalid'],
    ['xn--.com', 'domain_idn_invalid'],
    ['api.xn--abc.com', 'domain_idn_invalid'],
    ['xn--ls8h.la', 'domain_idn_invalid'],
    ['💩.la', 'domain_idn_invalid'],
    ['ex♥mple.io', 'domain_idn_invalid'],
    ['exa\u200Bmple.io', 'domain_idn_invalid'],
    ['xn--pple-43d.com', 'domain_mixed_script'],
    ['аpple.com', 'domain_mixed_script'],
    ['pаypal.com', 'domain_mixed_script'],
    ['gοοgle.com', 'domain_mixed_script'],
    ['xn--80ak6aa92e.com', 'domain_confusable'],
    ['аррӏе.com', 'domain_confusable'],
    ['ѕсоре.io', 'domain_confusable'],
  ] as const)('refuses the internationalized name %s (%s)', (domain, code) => {
    expect(codeOf(domain)).toBe(code);
  });

  it('accepts all-Cyrillic lookalikes under a Cyrillic top level, where they are the expected writing', () => {
    expect(domainProblem('аррӏе.рф')).toBeUndefined();
  });

  it('never accepts an IPv4 literal, in any notation (property)', () => {
    fc.assert(
      fc.property(ipv4Notations(), fc.boolean(), (literal, wildcard) => {
        const domain = wildcard ? `*.${literal}` : literal;
        expect(domainProblem(domain)).toBeDefined();
        expect(domainProblem(domain)?.code).toBe('domain_ip_literal');
        expect(domainProblem(`${literal}.`)).toBeDefined();
      }),
      { numRuns: 2000 },
    );
  });

  it('never accepts an IPv6 literal, bare or bracketed (property)', () => {
    fc.assert(
      fc.property(fc.ipV6(), (literal) => {
        expect(codeOf(literal)).toBe('domain_ip_literal');
        expect(codeOf(`[${literal}]`)).toBe('domain_ip_literal');
      }),
      { numRuns: 500 },
    );
  });

  it('never accepts a webhook on an IPv4 literal (property)', () => {
    fc.assert(
      fc.property(ipv4Notations(), (literal) => {
        const result = validateManifest(
          aManifest((m) => (m.delivery = { mode: 'http', webhookUrl: `https://${literal}/hook` })),
        );
        expect(result.ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('accepts only names that are also valid proxy approvals (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.domain(),
          fc.domain().map((domain) => `*.${domain}`),
          fc.string({ maxLength: 40 }),
        ),
        (domain) => {
          if (domainProblem(domain) === undefined) {
            expect(domainPatternProblem(normalizeDomain(domain) ?? '')).toBeUndefined();
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('answers every string without throwing (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (domain) => {
        const problem = domainProblem(domain);
        expect(problem === undefined || problem.message.length > 0).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

describe(normalizeDomain.name, () => {
  it.each([
    ['API.Acme.io', 'api.acme.io'],
    ['Bücher.DE', 'xn--bcher-kva.de'],
    ['*.Bücher.de', '*.xn--bcher-kva.de'],
    ['xn--bcher-kva.de', 'xn--bcher-kva.de'],
  ])('writes %s as %s', (domain, normalized) => {
    expect(normalizeDomain(domain)).toBe(normalized);
  });

  it.each(['xn--zz.com', 'api.acme.io/x', 'a%41.com'])('has no form for %s', (domain) => {
    expect(normalizeDomain(domain)).toBeUndefined();
  });
});
