import type { AuditRecord } from '@vivified/contracts';
import { auditCategories, auditOutcomes, classifications } from '@vivified/contracts';

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
 * The constraints of the {@link AuditRecord} contract, checked without class-validator: ingest checks every
 * record, and class-validator costs about half a millisecond per record, which would cap ingest near 2,000/s.
 * Resolves the record, or what is wrong with it. A unit test keeps it in step with the contract's decorators.
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
