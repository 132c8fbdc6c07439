import { createHmac } from 'node:crypto';

import type { AuditRecord } from '@vivified/contracts';
import { describe, expect, it } from 'vitest';

import { IngestSanitizer } from './ingest-sanitizer';

const hash = (value: string) => `hmac:${createHmac('sha256', 'k'.repeat(32)).update(value).digest('hex')}`;
const sanitizer = new IngestSanitizer(hash);

const record = (details: Record<string, unknown>, target?: string): AuditRecord => ({
  id: '5b1f0c55-1d4b-4e4c-9a51-4f3f0f7f0e11',
  ts: '2026-01-01T00:00:00.000Z',
  category: 'event',
  action: 'patient.read',
  outcome: 'success',
  actor: { kind: 'user', id: 'user:1' },
  classification: ['phi'],
  phiInvolved: true,
  service: 'gateway',
  details,
  ...(target ? { target } : {}),
});

describe('IngestSanitizer', () => {
  it('masks secrets and PHI keys at any depth and hashes identifiers', () => {
    const out = sanitizer.record(
      record({
        password: 'hunter2',
        nested: { clientSecret: 'abc', patient_id: 'P-1234', diagnosis: 'flu', list: [{ mrn: 'M9' }] },
        email: 'Jane@Example.org',
        dob: '1970-01-01',
        firstName: 'Jane',
        count: 3,
      }),
    );
    expect(out.details).toEqual({
      password: '[REDACTED]',
      nested: {
        clientSecret: '[REDACTED]',
        patient_id: hash('P-1234'),
        diagnosis: '[REDACTED]',
        list: [{ mrn: hash('M9') }],
      },
      email: hash('Jane@Example.org'),
      dob: '[REDACTED]',
      firstName: '[REDACTED]',
      count: 3,
    });
    expect(JSON.stringify(out)).not.toMatch(/hunter2|P-1234|flu|1970|Jane/);
  });

  it('masks secret- and PHI-shaped values under innocent keys', () => {
    const jwt = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1c2VyOjEifQ.c2lnbmF0dXJlLXZhbHVl';
    const out = sanitizer.record(
      record({
        note: `header Bearer abcdefghijklmnop and ${jwt}`,
        comment: 'ssn 123-45-6789, card 4111 1111 1111 1111, mail bob@example.com',
        weird: 'a\u0000b\ud800',
        shouting: 'AUTHORIZATION: BEARER abcdefghijklmnopq',
        plain: 'login ok for user:42',
      }),
    );
    const text = JSON.stringify(out.details);
    expect(text).not.toMatch(/abcdefghijklmnop|eyJhbGci|123-45-6789|4111|bob@example\.com/);
    expect(text).toContain(hash('bob@example.com'));
    expect(out.details['weird']).toBe('ab\ufffd');
    expect(out.details['shouting']).toBe('AUTHORIZATION: [REDACTED]');
    expect(out.details['plain']).toBe('login ok for user:42');
  });

  it('hashes the id of a PHI target', () => {
    expect(sanitizer.record(record({}, 'patient:P-1')).target).toBe(`patient:${hash('P-1')}`);
    expect(sanitizer.record(record({}, 'plugin:acme')).target).toBe('plugin:acme');
  });
});
