import { createHash } from 'node:crypto';

/** `prev_hash` of the first row of the chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** The fields of a stored row that its hash covers (everything but `prev_hash` and `hash`). */
export interface ChainRow {
  seq: number;
  id: string;
  /** ISO 8601 with milliseconds, as `Date.toISOString` writes it. */
  ts: string;
  storedAt: string;
  category: string;
  action: string;
  outcome: string;
  actorKind: string;
  actorId: string;
  target: string | null;
  pluginId: string | null;
  traceId: string | null;
  classification: string[];
  phiInvolved: boolean;
  service: string;
  details: Record<string, unknown>;
}

/**
 * JSON with object keys sorted at every depth and no whitespace: the same value always gives the same text,
 * whatever order PostgreSQL's jsonb hands keys back in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    return JSON.stringify(value ?? null);
  }
  if (Array.isArray(value)) {
    return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}

const json = (value: unknown): string => JSON.stringify(value ?? null);

/**
 * `canonicalJson(row)` written out for the fixed fields (keys in sorted order), which is several times faster than
 * the generic walk on the ingest path; a unit test keeps the two identical.
 */
export function canonicalRow(row: ChainRow): string {
  return canonicalRowWithDetails(row, canonicalJson(row.details));
}

/** {@link canonicalRow} with the canonical JSON of `details` already made (the ingest stores that same text). */
export function canonicalRowWithDetails(row: ChainRow, detailsJson: string): string {
  return (
    `{"action":${json(row.action)},"actorId":${json(row.actorId)},"actorKind":${json(row.actorKind)}` +
    `,"category":${json(row.category)},"classification":${json(row.classification)}` +
    `,"details":${detailsJson},"id":${json(row.id)},"outcome":${json(row.outcome)}` +
    `,"phiInvolved":${json(row.phiInvolved)},"pluginId":${json(row.pluginId)},"seq":${json(row.seq)}` +
    `,"service":${json(row.service)},"storedAt":${json(row.storedAt)},"target":${json(row.target)}` +
    `,"traceId":${json(row.traceId)},"ts":${json(row.ts)}}`
  );
}

/** SHA-256 (hex) over the previous row's hash and this row's canonical JSON. */
export function rowHash(row: ChainRow, prevHash: string): string {
  return hashOfCanonical(canonicalRow(row), prevHash);
}

/** {@link rowHash} of a row whose canonical JSON is already written. */
export function hashOfCanonical(canonical: string, prevHash: string): string {
  return createHash('sha256').update(prevHash).update('\n').update(canonical).digest('hex');
}
