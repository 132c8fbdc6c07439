import { ErrorCode, PROXY_URL_MAX_LENGTH, VivifiedError } from '@vivified/contracts';
import { hostProblem, normalizeHost } from '@vivified/policy-engine';
import ipaddr from 'ipaddr.js';

/** A proxy URL that passed the parser's checks. */
export interface ProxyTarget {
  /** The URL to request, its host normalized (lower case, ASCII, no trailing dot). */
  url: URL;
  /** The normalized host: a public DNS name. */
  host: string;
  /** The port to connect to. */
  port: number;
  scheme: 'https' | 'http';
}

/** A refusal of the proxy lane: `POLICY_DENIED` with a reason, or `BAD_REQUEST` for an unparseable URL. */
export function proxyRefusal(reason: string, message = 'proxy request refused'): VivifiedError {
  return new VivifiedError(ErrorCode.PolicyDenied, message, { reason });
}

// control characters, spaces and backslashes never belong in a URL we forward (WHATWG would "fix" some of them)
const UNSAFE = /[\u0000-\u0020\u007f-\u00a0\\]/;

/**
 * Parses a proxy-lane URL the way the connection will use it (WHATWG URL) and refuses everything that could
 * point somewhere else than the public DNS name it shows: non-http(s) schemes, userinfo (`https://a.org@127.0.0.1`),
 * bracketed and numeric hosts in any notation (decimal, octal, hex, IPv4-mapped IPv6 — WHATWG turns them into IP
 * literals, which are refused), internal and reserved names, and a second trailing dot. IDNs are checked in their
 * punycode form, as DNS sees them.
 */
export function parseProxyUrl(raw: string): ProxyTarget {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > PROXY_URL_MAX_LENGTH || UNSAFE.test(raw)) {
    throw new VivifiedError(ErrorCode.BadRequest, 'invalid proxy URL', { reason: 'invalid_url' });
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new VivifiedError(ErrorCode.BadRequest, 'invalid proxy URL', { reason: 'invalid_url' });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw proxyRefusal('scheme_not_allowed');
  }
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(raw)?.[1];
  if (url.username !== '' || url.password !== '' || authority === undefined || authority.includes('@')) {
    throw proxyRefusal('userinfo_not_allowed');
  }
  const hostname = url.hostname;
  if (hostname.startsWith('[') || hostname.includes(':')) {
    throw proxyRefusal('ip_literal_not_allowed');
  }
  const host = normalizeHost(hostname);
  if (host.endsWith('.')) {
    throw proxyRefusal('invalid_host');
  }
  if (ipaddr.isValid(host) || /^[0-9.]+$/.test(host) || /^0x[0-9a-f]+$/i.test(host)) {
    throw proxyRefusal('ip_literal_not_allowed');
  }
  const problem = hostProblem(host);
  if (problem !== undefined) {
    throw proxyRefusal('invalid_host', `proxy request refused: ${problem}`);
  }
  url.hostname = host;
  const scheme = url.protocol === 'https:' ? 'https' : 'http';

  return { url, host, scheme, port: url.port ? Number(url.port) : scheme === 'https' ? 443 : 80 };
}

/** The host a proxy request names, for the policy input (`context.domain`); empty when it names none. */
export function proxyDomainOf(payload: unknown): string {
  const raw = (payload as { url?: unknown } | null | undefined)?.url;
  if (typeof raw !== 'string') {
    return '';
  }
  try {
    return parseProxyUrl(raw).host;
  } catch {
    try {
      // an IP literal or internal name still reaches the engine as what it is, and is refused there too
      return normalizeHost(new URL(raw).hostname);
    } catch {
      return '';
    }
  }
}
