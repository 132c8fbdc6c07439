import { classifications } from '../headers';
import type { AuditRecord } from './audit-record';
import { auditCategories, auditOutcomes } from './audit-record';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const ACTION = /^[a-z][a-z0-9_.-]{0,99}$/;
const TRACE = /^[0-9a-f]{32}$/;
const categories = new Set<string>(auditCategories);
const outcomes = new Set<string>(auditOutcomes);
const kinds = new Set(['user', 'plugin', 'service', 'anonymous']);
const classificationSet = new Set<string>(classifications);
const fields = new Set([
  'id',
  'ts',
  'category',
  'action',
  'outcome',
  'actor',
  'target',
  'pluginId',
  'traceId',
  'classification',
  'phiInvolved',
  'service',
  'details',
]);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const shortString = (value: unknown, max: number): value is string =>
  typeof value === 'string' && value.length <= max;

const optional = (value: unknown, check: (value: unknown) => boolean): boolean =>
  value === undefined || check(value);

/**
 * The constraints of the {@link AuditRecord} contract, checked without class-validator: every emitter checks the
 * records it builds and the audit service checks every record it ingests, and class-validator's per-object
 * metadata walk costs tens of microseconds per record, which would cap ingest near 2,000/s and add measurably to
 * every audited call. Resolves the record, or what is wrong with it. A unit test keeps it in step with the
 * contract's decorators.
 */
export function checkAuditRecord(body: unknown): AuditRecord | string {
  if (!isObject(body)) {
    return 'not an object';
  }
  for (const key of Object.keys(body)) {
    if (!fields.has(key)) {
      return `unknown field ${key}`;
    }
  }
  const { actor, classification } = body;
  const problems: Array<[boolean, string]> = [
    [typeof body['id'] === 'string' && UUID.test(body['id']), 'id'],
    [
      typeof body['ts'] === 'string' && ISO.test(body['ts']) && !Number.isNaN(new Date(body['ts']).getTime()),
      'ts',
    ],
    [typeof body['category'] === 'string' && categories.has(body['category']), 'category'],
    [typeof body['action'] === 'string' && ACTION.test(body['action']), 'action'],
    [typeof body['outcome'] === 'string' && outcomes.has(body['outcome']), 'outcome'],
    [
      isObject(actor) &&
        Object.keys(actor).every((key) => key === 'kind' || key === 'id') &&
        typeof actor['kind'] === 'string' &&
        kinds.has(actor['kind']) &&
        shortString(actor['id'], 200),
      'actor',
    ],
    [optional(body['target'], (value) => shortString(value, 200)), 'target'],
    [optional(body['pluginId'], (value) => shortString(value, 64)), 'pluginId'],
    [optional(body['traceId'], (value) => typeof value === 'string' && TRACE.test(value)), 'traceId'],
    [
      Array.isArray(classification) &&
        classification.every((item) => typeof item === 'string' && classificationSet.has(item)) &&
        new Set(classification).size === classification.length,
      'classification',
    ],
    [typeof body['phiInvolved'] === 'boolean', 'phiInvolved'],
    [shortString(body['service'], 64), 'service'],
    [isObject(body['details']), 'details'],
  ];
  const wrong = problems.find(([ok]) => !ok);

  return wrong ? `invalid ${wrong[1]}` : (body as unknown as AuditRecord);
}

/** Most records one batch message on `vivified.audit.batch` carries (ADR-0007). */
export const AUDIT_BATCH_MAX_RECORDS = 1_000;

/**
 * Checks a batch message (`{"records":[…]}` on `vivified.audit.batch`, ADR-0007): resolves one entry per record,
 * the record or what is wrong with it, so one bad record never costs its neighbours; or, when the message is not a
 * batch at all, what is wrong with it.
 */
export function checkAuditBatch(body: unknown): Array<AuditRecord | string> | string {
  if (!isObject(body) || Object.keys(body).some((key) => key !== 'records')) {
    return 'not a batch';
  }
  const { records } = body;
  if (!Array.isArray(records) || records.length === 0 || records.length > AUDIT_BATCH_MAX_RECORDS) {
    return `a batch holds 1 to ${AUDIT_BATCH_MAX_RECORDS} records`;
  }

  return records.map((record) => checkAuditRecord(record));
}
