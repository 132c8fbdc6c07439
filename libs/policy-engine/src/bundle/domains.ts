/**
 * Domain names of proxy approvals: syntax, names that never leave the machine or the private network, and the
 * `*.example.org` wildcard, which may only sit below a registrable domain.
 */

/** Top-level names that are internal, reserved or not on the public DNS (RFC 2606, 6761, 6762, 7686, 9476). */
const BLOCKED_TLDS = new Set([
  'localhost',
  'local',
  'localdomain',
  'internal',
  'intranet',
  'lan',
  'home',
  'corp',
  'onion',
  'invalid',
  'test',
  'example',
  'arpa',
  'alt',
]);

/**
 * Multi-label public suffixes (a subset of the Public Suffix List: common country second levels and shared
 * hosting suffixes). A wildcard must name a domain below them: `*.co.uk` and `*.github.io` are refused.
 */
const MULTI_LABEL_SUFFIXES = new Set(
  `
  co.uk org.uk ac.uk gov.uk ltd.uk plc.uk me.uk net.uk nhs.uk sch.uk com.au net.au org.au edu.au
  gov.au asn.au id.au co.nz org.nz net.nz govt.nz ac.nz co.jp ne.jp or.jp ac.jp go.jp gr.jp com.br
  net.br org.br gov.br edu.br com.cn net.cn org.cn gov.cn edu.cn co.in net.in org.in gov.in ac.in
  firm.in gen.in ind.in co.za org.za gov.za ac.za web.za com.mx org.mx gob.mx edu.mx co.kr or.kr
  go.kr ac.kr com.sg edu.sg gov.sg com.hk org.hk gov.hk com.tw org.tw gov.tw co.il org.il gov.il
  ac.il com.tr gov.tr org.tr com.ar gob.ar co.id go.id com.my gov.my com.ph gov.ph com.vn gov.vn
  com.pl gov.pl co.at or.at gv.at com.es gob.es com.ua gov.ua com.pk gov.pk com.ng gov.ng com.eg
  gov.eg com.sa gov.sa co.th go.th ac.th com.co gov.co com.pe gob.pe github.io githubusercontent.com
  gitlab.io herokuapp.com appspot.com azurewebsites.net cloudapp.net cloudfront.net amazonaws.com
  s3.amazonaws.com elasticbeanstalk.com blogspot.com netlify.app vercel.app pages.dev workers.dev
  firebaseapp.com web.app fly.dev onrender.com ngrok.io ngrok-free.app trycloudflare.com glitch.me
  repl.co
  `
    .trim()
    .split(/\s+/),
);

const LABEL = /^(?!-)[a-z0-9-]{1,63}$/;
const TLD = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

/** Lower-cases a host and drops one trailing dot (`API.Example.org.` → `api.example.org`). */
export function normalizeHost(host: string): string {
  const lower = host.toLowerCase();

  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * Why a host name cannot be approved or requested, or undefined when it is a public DNS name: at least two
 * labels, valid labels, an alphabetic top level (so no IP literal in any notation), not internal or reserved.
 */
export function hostProblem(host: string): string | undefined {
  if (host.length === 0 || host.length > 253) {
    return 'a host name has 1 to 253 characters';
  }
  if (host.includes(':') || host.startsWith('[')) {
    return 'IP literals are not allowed';
  }
  const labels = host.split('.');
  if (labels.length < 2) {
    return 'a host name needs a registrable domain (two labels or more)';
  }
  for (const label of labels) {
    if (!LABEL.test(label) || label.endsWith('-')) {
      return `invalid label ${JSON.stringify(label)}`;
    }
  }
  const tld = labels[labels.length - 1];
  if (!TLD.test(tld)) {
    return 'IP literals and numeric top-level labels are not allowed';
  }
  if (BLOCKED_TLDS.has(tld)) {
    return `.${tld} names are internal or reserved`;
  }

  return undefined;
}

/** True when the domain is a public suffix we know (`com`, `co.uk`, `github.io`): nothing registrable. */
export function isPublicSuffix(domain: string): boolean {
  return !domain.includes('.') || MULTI_LABEL_SUFFIXES.has(domain);
}

/**
 * Why an approval pattern is invalid, or undefined: a host name as {@link hostProblem} accepts it, or
 * `*.<domain>` where the domain is registrable (not a public suffix). Patterns must be written normalized.
 */
export function domainPatternProblem(pattern: string): string | undefined {
  if (pattern !== normalizeHost(pattern) || pattern !== pattern.trim()) {
    return 'write domains lower-case, without a trailing dot or spaces';
  }
  if (!pattern.startsWith('*.')) {
    return pattern.includes('*')
      ? 'a wildcard is only allowed as the first label (*.example.org)'
      : hostProblem(pattern);
  }
  const parent = pattern.slice(2);
  if (parent.includes('*')) {
    return 'a wildcard is only allowed as the first label (*.example.org)';
  }
  const problem = hostProblem(parent);
  if (problem !== undefined) {
    return problem;
  }
  if (isPublicSuffix(parent)) {
    return `*.${parent} would cover every domain under a public suffix`;
  }

  return undefined;
}

/**
 * True when a normalized host matches an approval pattern: the same name, or exactly one label below the
 * wildcard's domain (`*.example.org` matches `api.example.org`, not `example.org` nor `a.b.example.org`).
 */
export function domainMatches(pattern: string, host: string): boolean {
  if (!pattern.startsWith('*.')) {
    return pattern === host;
  }
  const suffixLength = pattern.length - 1;
  if (host.length <= suffixLength || !host.endsWith(pattern.slice(1))) {
    return false;
  }

  return !host.slice(0, host.length - suffixLength).includes('.');
}
