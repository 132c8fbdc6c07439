import { describe, expect, it } from 'vitest';

import { validatePayload } from '../validation';
import { AuditRecord } from './audit-record';
import { checkAuditRecord } from './audit-record-check';

const valid = {
  id: '5b1f0c55-1d4b-4e4c-9a51-4f3f0f7f0e11',
  ts: '2026-01-01T00:00:00.000Z',
  category: 'auth',
  action: 'login',
  outcome: 'success',
  actor: { kind: 'user', id: 'user:1' },
  target: 'plugin:acme',
  pluginId: 'acme',
  traceId: 'a'.repeat(32),
  classification: ['pii'],
  phiInvolved: false,
  service: 'identity',
  details: { a: 1 },
};

const variants: Array<[string, Record<string, unknown>]> = [
  ['valid', valid],
  ['minimal', { ...valid, target: undefined, pluginId: undefined, traceId: undefined }],
  ['bad id', { ...valid, id: 'nope' }],
  ['bad ts', { ...valid, ts: 'yesterday' }],
  ['bad category', { ...valid, category: 'other' }],
  ['bad action', { ...valid, action: 'Login!' }],
  ['bad outcome', { ...valid, outcome: 'maybe' }],
  ['bad actor kind', { ...valid, actor: { kind: 'robot', id: 'x' } }],
  ['actor extra', { ...valid, actor: { kind: 'user', id: 'x', name: 'y' } }],
  ['long target', { ...valid, target: 'x'.repeat(201) }],
  ['bad trace', { ...valid, traceId: 'XYZ' }],
  ['bad classification', { ...valid, classification: ['secret'] }],
  ['duplicate classification', { ...valid, classification: ['pii', 'pii'] }],
  ['phi not boolean', { ...valid, phiInvolved: 'yes' }],
  ['details array', { ...valid, details: [] }],
  ['unknown field', { ...valid, extra: 1 }],
];

describe('checkAuditRecord', () => {
  it.each(variants)('agrees with the contract: %s', (_name, body) => {
    const plain = JSON.parse(JSON.stringify(body)) as unknown;
    expect(typeof checkAuditRecord(plain) !== 'string').toBe(validatePayload(AuditRecord, plain).ok);
  });
});
