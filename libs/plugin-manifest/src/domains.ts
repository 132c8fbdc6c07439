import { isIPv4 } from 'node:net';
import { domainToASCII, domainToUnicode } from 'node:url';

import { domainPatternProblem } from '@vivified/policy-engine';

/** Why a domain of a manifest is refused. */
export const domainViolationCodes = [
  'domain_invalid',
  'domain_ip_literal',
  'domain_reserved',
  'domain_wildcard_invalid',
  'domain_wildcard_too_broad',
  'domain_idn_invalid',
  'domain_mixed_script',
  'domain_confusable',
] as const;

/** One reason a domain is refused. */
export type DomainViolationCode = (typeof domainViolationCodes)[number];

/** A refused domain: the reason and one sentence for the author. */
export interface DomainProblem {
  readonly code: DomainViolationCode;
  readonly message: string;
}

/** Options of {@link domainProblem}. */
export interface DomainCheckOptions {
  /**
   * Accept a leading `*.` wildcard (allowed domains); a host to connect to (a webhook) takes none.
   * @default true
   */
  readonly allowWildcard?: boolean;
}

/**
 * Top-level names that never reach the public DNS: RFC 2606 and 6761 (`test`, `example`, `invalid`,
 * `localhost`), RFC 6762 (`local`), RFC 7686 (`onion`), RFC 9476 (`alt`), ICANN's private-use `internal`, the
 * infrastructure `arpa` (so `home.arpa` too), names of private networks that collide on the public DNS, and
 * alternative roots.
 */
const RESERVED_TLDS = new Set([
  'localhost',
  'local',
  'localdomain',
  'internal',
  'intranet',
  'private',
  'lan',
  'home',
  'corp',
  'mail',
  'onion',
  'test',
  'example',
  'invalid',
  'arpa',
  'alt',
  'bit',
  'i2p',
  'exit',
]);

/**
 * Registrable names that are reserved (RFC 2606 §3) or that answer any address they are asked for, the loopback
 * included (a DNS-rebinding vehicle): a manifest may name neither them nor a name below them.
 */
const RESERVED_SUFFIXES = [
  'example.com',
  'example.net',
  'example.org',
  'nip.io',
  'sslip.io',
  'xip.io',
  'localtest.me',
  'lvh.me',
  'vcap.me',
  'traefik.me',
];

/** Raw characters a domain may be written with: letters, marks, digits, `-`, `.` and `*`. */
const RAW_CHARACTERS = /^[\p{L}\p{M}\p{N}.*-]+$/u;
/** What a URL host parser reads as an IPv4 number when it is the last label: decimal, octal or hex. */
/** An IPv6 literal, bare or bracketed, with an optional zone (`::1`, `[fe80::1%eth0]`, `::ffff:1.2.3.4`). */
const IPV6_LITERAL = /^\[?[0-9a-f]*:[0-9a-f:.]*(?:%[\w.-]+)?\]?$/i;
const NUMERIC_LABEL = /^(?:0x[0-9a-f]*|[0-9]+)$/i;
const LDH_LABEL = /^[a-z0-9-]{1,63}$/;
const TLD = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;
/** A character an internationalized label may hold: letters, marks, decimal digits and the hyphen. */
const IDN_CHARACTER = /^[\p{L}\p{M}\p{Nd}-]$/u;
const IGNORED_FOR_SCRIPT = /^[\p{Script=Common}\p{Script=Inherited}]$/u;

/** Scripts told apart by the mixed-script check (any other letter counts as one more, unnamed, script). */
const SCRIPTS = [
  'Latin',
  'Greek',
  'Cyrillic',
  'Armenian',
  'Hebrew',
  'Arabic',
  'Syriac',
  'Thaana',
  'Devanagari',
  'Bengali',
  'Gurmukhi',
  'Gujarati',
  'Oriya',
  'Tamil',
  'Telugu',
  'Kannada',
  'Malayalam',
  'Sinhala',
  'Thai',
  'Lao',
  'Tibetan',
  'Myanmar',
  'Georgian',
  'Hangul',
  'Ethiopic',
  'Cherokee',
  'Khmer',
  'Mongolian',
  'Hiragana',
  'Katakana',
  'Bopomofo',
  'Han',
] as const;
const SCRIPT_PATTERNS = SCRIPTS.map(
  (script) => [script, new RegExp(`^\\p{Script=${script}}$`, 'u')] as const,
);

/**
 * Script sets one label may combine (UTS #39 "highly restrictive"): Latin with Japanese, Chinese or Korean
 * writing. Any other combination is mixed-script.
 */
const ALLOWED_SCRIPT_SETS: ReadonlyArray<ReadonlySet<string>> = [
  new Set(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set(['Latin', 'Han', 'Bopomofo']),
  new Set(['Latin', 'Han', 'Hangul']),
];

/** Cyrillic letters that look like Latin ones; a label made only of them imitates a Latin name. */
const CYRILLIC_LATIN_LOOKALIKES = new Set('асԁеһіјӏорԛѕԝхуъьҽпгѵѡ');

function scriptOf(character: string): string {
  for (const [script, pattern] of SCRIPT_PATTERNS) {
    if (pattern.test(character)) {
      return script;
    }
  }

  return 'Other';
}

function idnLabelProblem(ascii: string, unicode: string, tld: string): DomainProblem | undefined {
  if (
    unicode === '' ||
    unicode === ascii ||
    domainToASCII(unicode) !== ascii ||
    /^[\x00-\x7f]*$/.test(unicode)
  ) {
    return { code: 'domain_idn_invalid', message: `${ascii} is not valid punycode` };
  }
  const characters = [...unicode];
  if (!characters.every((character) => IDN_CHARACTER.test(character))) {
    return {
      code: 'domain_idn_invalid',
      message: `${ascii} (${unicode}) holds symbols; internationalized labels hold letters and digits only`,
    };
  }
  const scripts = new Set(
    characters
      .filter((character) => !IGNORED_FOR_SCRIPT.test(character))
      .map((character) => scriptOf(character)),
  );
  if (scripts.size > 1 && !ALLOWED_SCRIPT_SETS.some((allowed) => [...scripts].every((s) => allowed.has(s)))) {
    return {
      code: 'domain_mixed_script',
      message: `${ascii} (${unicode}) mixes scripts: ${[...scripts].sort().join(', ')}`,
    };
  }
  const letters = characters.filter((character) => /\p{L}/u.test(character));
  if (
    scripts.size === 1 &&
    scripts.has('Cyrillic') &&
    letters.every((letter) => CYRILLIC_LATIN_LOOKALIKES.has(letter)) &&
    !/\p{Script=Cyrillic}/u.test(domainToUnicode(tld))
  ) {
    return {
      code: 'domain_confusable',
      message: `${ascii} (${unicode}) is written only with Cyrillic letters that look Latin`,
    };
  }

  return undefined;
}

/** Checks a host name already in ASCII, lower-case form (no wildcard). */
function asciiHostProblem(ascii: string): DomainProblem | undefined {
  if (isIPv4(ascii)) {
    return { code: 'domain_ip_literal', message: `${ascii} is an IP address; name a host` };
  }
  if (ascii.length > 253) {
    return { code: 'domain_invalid', message: 'a domain has at most 253 characters' };
  }
  const labels = ascii.split('.');
  if (labels.length < 2) {
    return ascii === 'localhost'
      ? { code: 'domain_reserved', message: 'localhost never leaves the machine' }
      : { code: 'domain_invalid', message: `${ascii} is not a public name: a domain has two labels or more` };
  }
  for (const label of labels) {
    if (!LDH_LABEL.test(label) || label.startsWith('-') || label.endsWith('-')) {
      return {
        code: 'domain_invalid',
        message: `invalid label ${JSON.stringify(label)}: 1 to 63 letters, digits or inner hyphens`,
      };
    }
    if (label.slice(2, 4) === '--' && !label.startsWith('xn--')) {
      return { code: 'domain_invalid', message: `label ${label} has the form reserved for encodings (??--)` };
    }
  }
  const tld = labels[labels.length - 1];
  if (!TLD.test(tld)) {
    return NUMERIC_LABEL.test(tld)
      ? { code: 'domain_ip_literal', message: `${ascii} is an IP address (its last part is a number)` }
      : { code: 'domain_invalid', message: `.${tld} is not a top-level domain: letters only` };
  }
  if (RESERVED_TLDS.has(tld)) {
    return { code: 'domain_reserved', message: `.${tld} names are internal or reserved, never public` };
  }
  const suffix = RESERVED_SUFFIXES.find((reserved) => ascii === reserved || ascii.endsWith(`.${reserved}`));
  if (suffix !== undefined) {
    return {
      code: 'domain_reserved',
      message: `${suffix} and the names below it are reserved or resolve anywhere`,
    };
  }
  if (labels.some((label) => label.startsWith('xn--'))) {
    const unicodeLabels = domainToUnicode(ascii).split('.');
    for (const [index, label] of labels.entries()) {
      if (label.startsWith('xn--')) {
        const problem = idnLabelProblem(
          label,
          unicodeLabels.length === labels.length ? unicodeLabels[index] : '',
          tld,
        );
        if (problem !== undefined) {
          return problem;
        }
      }
    }
  }

  return undefined;
}

/**
 * The ASCII, lower-case form of a domain as the checks see it (`Bücher.DE` → `xn--bcher-kva.de`,
 * `*.Example.org` → `*.example.org`), or undefined when it has none (invalid punycode, forbidden characters).
 */
export function normalizeDomain(domain: string): string | undefined {
  if (!RAW_CHARACTERS.test(domain)) {
    return undefined;
  }
  const wildcard = domain.startsWith('*.');
  const ascii = domainToASCII(wildcard ? domain.slice(2) : domain);

  return ascii === '' ? undefined : `${wildcard ? '*.' : ''}${ascii}`;
}

/**
 * Why a domain may not be named in a manifest, or undefined when it is a public DNS name: valid labels
 * (1–63 letters, digits and inner hyphens; 253 characters in all), no IP literal in any notation (dotted,
 * integer, hex, octal, IPv6, bracketed), no localhost, internal or reserved name, a wildcard only as a leading
 * `*.` below a registrable domain, and internationalized names checked in their ASCII form (valid punycode,
 * one script per label, no all-lookalike Cyrillic). Whatever passes is also a valid proxy approval pattern
 * (`domainPatternProblem` of `@vivified/policy-engine`).
 */
export function domainProblem(domain: string, options: DomainCheckOptions = {}): DomainProblem | undefined {
  const allowWildcard = options.allowWildcard ?? true;
  if (domain.length === 0 || domain.length > 253) {
    return { code: 'domain_invalid', message: 'a domain has 1 to 253 characters' };
  }
  if (IPV6_LITERAL.test(domain)) {
    return { code: 'domain_ip_literal', message: `${domain} is an IPv6 literal; name a host` };
  }
  if (!RAW_CHARACTERS.test(domain)) {
    const unicode = [...domain].some((character) => character > '\x7f' && !RAW_CHARACTERS.test(character));

    return {
      code: unicode ? 'domain_idn_invalid' : 'domain_invalid',
      message: `${JSON.stringify(domain)} holds characters a host name cannot: letters, digits, hyphens and dots only`,
    };
  }
  let host = domain;
  let wildcard = false;
  if (domain.includes('*')) {
    if (!allowWildcard) {
      return { code: 'domain_wildcard_invalid', message: 'a host to connect to takes no wildcard' };
    }
    if (domain === '*' || domain === '*.') {
      return { code: 'domain_wildcard_too_broad', message: '* would allow every domain' };
    }
    if (!domain.startsWith('*.') || domain.slice(2).includes('*')) {
      return {
        code: 'domain_wildcard_invalid',
        message: 'a wildcard is only allowed as a leading *. (*.example.org)',
      };
    }
    host = domain.slice(2);
    wildcard = true;
  }
  if (host.endsWith('.')) {
    return { code: 'domain_invalid', message: 'write domains without a trailing dot' };
  }
  const labels = host.split('.');
  if (labels.some((label) => label === '')) {
    return { code: 'domain_invalid', message: `${domain} has an empty label` };
  }
  if (NUMERIC_LABEL.test(labels[labels.length - 1])) {
    return { code: 'domain_ip_literal', message: `${domain} is an IP address (its last part is a number)` };
  }
  const ascii = domainToASCII(host);
  if (ascii === '') {
    return /[^\x00-\x7f]/.test(host) || /(^|\.)xn--/i.test(host)
      ? { code: 'domain_idn_invalid', message: `${domain} is not a valid internationalized name` }
      : { code: 'domain_invalid', message: `${domain} is not a valid host name` };
  }
  if (wildcard && !ascii.includes('.') && !isIPv4(ascii)) {
    return RESERVED_TLDS.has(ascii)
      ? { code: 'domain_reserved', message: `.${ascii} names are internal or reserved, never public` }
      : { code: 'domain_wildcard_too_broad', message: `*.${ascii} would allow a whole top-level domain` };
  }
  const problem = asciiHostProblem(ascii);
  if (problem !== undefined) {
    return problem;
  }
  const pattern = `${wildcard ? '*.' : ''}${ascii}`;
  const approvalProblem = domainPatternProblem(pattern);
  if (approvalProblem !== undefined) {
    // the host itself passed, so what is left for a wildcard is a parent that is a public suffix
    return wildcard
      ? { code: 'domain_wildcard_too_broad', message: `${pattern}: ${approvalProblem}` }
      : { code: 'domain_invalid', message: `${pattern}: ${approvalProblem}` };
  }

  return undefined;
}
