/**
 * Header names carried on every core and lane message (ARCHITECTURE §3). DO NOT CHANGE THE VALUES.
 */
export const headers = {
  /** `Bearer <JWT>` of the caller. */
  authorization: 'Authorization',
  /** W3C trace context. */
  traceparent: 'traceparent',
  /** W3C trace state. */
  tracestate: 'tracestate',
  /** Comma list of classifications of the payload. */
  classification: 'Vivified-Classification',
  /** Deduplication id of a JetStream publish. */
  msgId: 'Nats-Msg-Id',
  /** HTTP-like status of an error reply. */
  errorCode: 'Nats-Service-Error-Code',
  /** Human-readable message of an error reply. */
  error: 'Nats-Service-Error',
  /** Absolute deadline (epoch milliseconds) after which the caller stops waiting. */
  deadline: 'Vivified-Deadline',
} as const;

/** Data classifications, from least to most sensitive. */
export const classifications = ['public', 'internal', 'confidential', 'pii', 'phi'] as const;

/** One data classification. */
export type Classification = (typeof classifications)[number];

/** Parses a `Vivified-Classification` header; unknown values are refused, not dropped. */
export function parseClassification(value: string | undefined | null): Classification[] {
  if (!value) {
    return [];
  }
  const parts = value
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .filter((part) => part.length > 0);
  const unknown = parts.filter((part) => !(classifications as readonly string[]).includes(part));
  if (unknown.length > 0) {
    throw new RangeError(`unknown classification: ${unknown.join(', ')}`);
  }

  return [...new Set(parts as Classification[])];
}

/** Formats classifications for the `Vivified-Classification` header. */
export function formatClassification(values: readonly Classification[]): string {
  return [...new Set(values)].join(',');
}
