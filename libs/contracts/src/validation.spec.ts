import { describe, expect, it } from 'vitest';
import { IsInt, IsNumber, IsString, Min } from 'class-validator';

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

  it('refuses a value a constraint throws on, instead of failing', () => {
    class Cores {
      @IsNumber({ maxDecimalPlaces: 3 })
      cpu!: number;
    }
    expect(validatePayload(Cores, { cpu: 5e-324 })).toMatchObject({ ok: false });
    expect(validatePayload(Cores, { cpu: 0.5 }).ok).toBe(true);
  });

  it('answers a valid value as it came, without a copy', () => {
    const result = validatePayload(AuditRecord, record);
    expect(result.ok && result.value).toBe(record);
  });

  it('validates a class the compiled check does not cover with class-validator, into an instance', () => {
    class WithDefault {
      @IsInt()
      @Min(1)
      limit: number = 50;
    }
    const result = validatePayload(WithDefault, {});
    expect(result.ok && result.value).toBeInstanceOf(WithDefault);
    expect(result.ok && result.value.limit).toBe(50);
    expect(validatePayload(WithDefault, { limit: 0 }).ok).toBe(false);
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

describe('remembered metadata lookups', () => {
  it('still sees classes and constraints defined after a first validation', () => {
    class Base {
      @IsString()
      name!: string;
    }
    expect(validatePayload(Base, { name: 'a' }).ok).toBe(true);
    expect(validatePayload(Base, { name: 1 }).ok).toBe(false);

    class Derived extends Base {
      @IsInt()
      @Min(1)
      count!: number;
    }
    expect(validatePayload(Derived, { name: 'a', count: 2 }).ok).toBe(true);
    expect(validatePayload(Derived, { name: 'a', count: 0 })).toMatchObject({
      ok: false,
      errors: [{ path: 'count' }],
    });
    expect(validatePayload(Derived, { name: 2, count: 2 })).toMatchObject({
      ok: false,
      errors: [{ path: 'name' }],
    });
    // the base class is unchanged by its subclass
    expect(validatePayload(Base, { name: 'a', count: 0 })).toMatchObject({ ok: false });
    expect(validatePayload(Base, { name: 'a' }).ok).toBe(true);
  });
});
