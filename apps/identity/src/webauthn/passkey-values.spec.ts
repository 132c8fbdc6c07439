import { describe, expect, it } from 'vitest';

import { decoyCredentialId, expectedOrigins, userHandleOf } from './passkey-values';

describe('userHandleOf', () => {
  it('is the 16 bytes of the user id, base64url', () => {
    const handle = userHandleOf('0f8fad5b-d9cb-469f-a165-70867728950e');

    expect(Buffer.from(handle, 'base64url').toString('hex')).toBe('0f8fad5bd9cb469fa16570867728950e');
  });
});

describe('decoyCredentialId', () => {
  it('is stable for a key and username and differs otherwise', () => {
    const key = Buffer.alloc(32, 1);

    expect(decoyCredentialId(key, 'nobody')).toBe(decoyCredentialId(key, 'nobody'));
    expect(decoyCredentialId(key, 'nobody')).not.toBe(decoyCredentialId(key, 'somebody'));
    expect(decoyCredentialId(Buffer.alloc(32, 2), 'nobody')).not.toBe(decoyCredentialId(key, 'nobody'));
    expect(decoyCredentialId(key, 'nobody')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('expectedOrigins', () => {
  it('keeps scheme, host and port only, once each', () => {
    expect(
      expectedOrigins(['http://localhost:8080/', 'http://localhost:8080', 'https://console.example.org/x']),
    ).toEqual(['http://localhost:8080', 'https://console.example.org']);
  });
});
