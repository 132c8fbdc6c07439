import { describe, expect, it } from 'vitest';

import type { ChainRow } from './chain-hash';
import { canonicalJson, canonicalRow, GENESIS_HASH, rowHash } from './chain-hash';

const row: ChainRow = {
  seq: 1,
  id: '5b1f0c55-1d4b-4e4c-9a51-4f3f0f7f0e11',
  ts: '2026-01-01T00:00:00.000Z',
  storedAt: '2026-01-01T00:00:01.000Z',
  category: 'auth',
  action: 'login',
  outcome: 'success',
  actorKind: 'user',
  actorId: 'user:1',
  target: null,
  pluginId: null,
  traceId: null,
  classification: [],
  phiInvolved: false,
  service: 'identity',
  details: { b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } },
};

describe('canonicalJson', () => {
  it('sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: 'x' } })).toBe('{"a":{"c":"x","d":[2,1]},"b":1}');
  });

  it('gives the same text for the same value in any key order', () => {
    expect(canonicalJson({ x: 1, y: { q: 1, p: 2 } })).toBe(canonicalJson({ y: { p: 2, q: 1 }, x: 1 }));
  });
});

describe('canonicalRow', () => {
  it('is exactly canonicalJson of the row', () => {
    expect(canonicalRow(row)).toBe(canonicalJson(row));
    const full = {
      ...row,
      target: 'plugin:a',
      pluginId: 'a',
      traceId: 'f'.repeat(32),
      classification: ['pii', 'phi'],
    };
    expect(canonicalRow(full)).toBe(canonicalJson(full));
  });
});

describe('rowHash', () => {
  it('changes with any field and with the previous hash', () => {
    const base = rowHash(row, GENESIS_HASH);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(rowHash({ ...row, outcome: 'failure' }, GENESIS_HASH)).not.toBe(base);
    expect(rowHash({ ...row, seq: 2 }, GENESIS_HASH)).not.toBe(base);
    expect(rowHash(row, 'f'.repeat(64))).not.toBe(base);
    expect(rowHash({ ...row, details: { a: { c: null, d: [1, { y: 2, z: 1 }] }, b: 1 } }, GENESIS_HASH)).toBe(
      base,
    );
  });
});
