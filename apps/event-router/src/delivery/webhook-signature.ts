import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header with the HMAC-SHA256 signature of a webhook delivery: `v1=<hex>`. */
export const SIGNATURE_HEADER = 'Vivified-Signature';
/** Header with the delivery's Unix time in seconds (signed with the body). */
export const TIMESTAMP_HEADER = 'Vivified-Timestamp';

/** `v1=` + hex HMAC-SHA256(secret, `<timestamp>.<body>`). */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * What a receiver does: recompute the signature over the timestamp and the raw body, compare in constant time,
 * and refuse timestamps older than `toleranceSeconds` (replays).
 */
export function verifyWebhook(
  secret: string,
  timestamp: string | undefined,
  body: string,
  signature: string | undefined,
  options: { nowSeconds?: number; toleranceSeconds?: number } = {},
): boolean {
  if (timestamp === undefined || signature === undefined || !/^\d{1,12}$/.test(timestamp)) {
    return false;
  }
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestamp)) > (options.toleranceSeconds ?? 300)) {
    return false;
  }
  const expected = Buffer.from(signWebhook(secret, Number(timestamp), body));
  const given = Buffer.from(signature);

  return expected.length === given.length && timingSafeEqual(expected, given);
}
