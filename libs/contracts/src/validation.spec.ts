import { describe, expect, it } from 'vitest';

import { AuditRecord } from './audit/audit-record';
import { ErrorCode, VivifiedError } from './errors';
import { InfoRequest } from './info/info.rpc';
import { parsePayload, validatePayload } from './validation';

const record = {
  id: '7d444840-9dc0-41a8-a6b1-1f0e0fbd6f0b',
  ts: '2026-11-27T05:00:00.000Z',
  category: 'auth',
  action: 'login',
  outcome: 'success',
  actor: { kind: 'user', id: 'user:7d444840-9dc0-41a8-a6b1-1f0e0fbd6f0b' },
  classification: [],
  phiInvolved: false,
  service: 'identity',
  details: {},
};

describe(validatePayload.name, () => {
  it('accepts an empty request for a class without fields', () => {
    expect(validatePayload(InfoRequest, {}).ok).toBe(true);
  });

  it('refuses unknown properties', () => {
    const result = validatePayload(InfoRequest, { debug: true });
    expect(result).toEqual({
      ok: false,
      errors: [{ path: 'debug', messages: ['property debug should not exist'] }],
    });
  });

  it.each([null, 'text', 42, [1, 2]])('refuses a payload that is not an object: %j', (value) => {
    expect(validatePayload(InfoRequest, value).ok).toBe(false);
  });

  it('validates nested objects and lists every field error with its path', () => {
    const result = validatePayload(AuditRecord, {
      ...record,
      outcome: 'maybe',
      actor: { kind: 'robot', id: 'x' },
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors.map((error) => error.path).sort()).toEqual(['actor.kind', 'outcome']);
    }
  });

  it('returns an instance of the class', () => {
    const result = validatePayload(AuditRecord, record);
    expect(result.ok && result.value).toBeInstanceOf(AuditRecord);
  });
});

describe(parsePayload.name, () => {
  it('throws a typed validation error with details', () => {
    try {
      parsePayload(AuditRecord, { ...record, id: 'not-a-uuid' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(VivifiedError);
      expect((error as VivifiedError).code).toBe(ErrorCode.ValidationFailed);
      expect((error as VivifiedError).status).toBe(400);
      expect((error as VivifiedError).details?.[0]?.path).toBe('id');
    }
  });
});
