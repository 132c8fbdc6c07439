/** Request headers never forwarded: credentials, routing, hop-by-hop and framing (the gateway sets those). */
const DROPPED_REQUEST = new Set([
  'authorization',
  'cookie',
  'cookie2',
  'host',
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'via',
  'forwarded',
  'content-length',
  'expect',
  'x-real-ip',
  'x-client-ip',
  'true-client-ip',
  'cf-connecting-ip',
  'x-original-url',
  'x-rewrite-url',
  'x-http-method-override',
]);

/** Response headers passed back to the plugin; everything else (set-cookie, server internals) is dropped. */
const ALLOWED_RESPONSE = new Set([
  'content-type',
  'content-language',
  'content-encoding',
  'content-disposition',
  'cache-control',
  'etag',
  'last-modified',
  'expires',
  'date',
  'retry-after',
  'vary',
  'location',
  'x-request-id',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
]);

const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]{1,100}$/;
const MAX_HEADERS = 64;
const MAX_VALUE = 8_192;

/** The request headers the proxy forwards: names lower-cased, dangerous ones dropped, values without CR/LF. */
export function forwardableHeaders(input: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  let count = 0;
  for (const [rawName, value] of Object.entries(input ?? {})) {
    const name = rawName.toLowerCase();
    if (
      !TOKEN.test(name) ||
      DROPPED_REQUEST.has(name) ||
      name.startsWith('x-forwarded-') ||
      name.startsWith('proxy-') ||
      typeof value !== 'string' ||
      value.length > MAX_VALUE ||
      /[\r\n\0]/.test(value)
    ) {
      continue;
    }
    if (++count > MAX_HEADERS) {
      break;
    }
    out[name] = value;
  }

  return out;
}

/** The upstream response headers on the allowlist, as single strings. */
export function returnedHeaders(
  input: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [rawName, value] of Object.entries(input)) {
    const name = rawName.toLowerCase();
    if (!ALLOWED_RESPONSE.has(name) || value === undefined) {
      continue;
    }
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }

  return out;
}
