import { describe, expect, it } from 'vitest';

import { validatePayload } from '../validation';
import {
  LOGIN_THROTTLED_REASON,
  LoginRequest,
  loginRetryAfterSeconds,
  TotpEnableRequest,
  UserCreateRequest,
} from './accounts.rpc';

describe('accounts contracts', () => {
  it('accept a login with a TOTP code, address and user agent', () => {
    expect(
      validatePayload(LoginRequest, {
        username: 'Admin',
        password: 'Correct-Horse-Battery-9',
        totp: '012345',
        ip: '2001:db8::1',
        userAgent: 'curl/8',
      }).ok,
    ).toBe(true);
  });

  it('refuse a malformed code, address, oversized password or unknown field', () => {
    const base = { username: 'admin', password: 'Correct-Horse-Battery-9' };
    expect(validatePayload(LoginRequest, { ...base, totp: '12345' }).ok).toBe(false);
    expect(validatePayload(LoginRequest, { ...base, backupCode: 'abcd_efgh' }).ok).toBe(false);
    expect(validatePayload(LoginRequest, { ...base, ip: 'localhost' }).ok).toBe(false);
    expect(validatePayload(LoginRequest, { ...base, password: 'x'.repeat(257) }).ok).toBe(false);
    expect(validatePayload(LoginRequest, { ...base, traits: ['admin'] }).ok).toBe(false);
    expect(validatePayload(TotpEnableRequest, { code: 'abcdef' }).ok).toBe(false);
  });

  it('take roles, never traits, when creating a user', () => {
    const user = { username: 'alice', password: 'Correct-Horse-Battery-9' };
    expect(validatePayload(UserCreateRequest, { ...user, roles: ['viewer', 'pii_handler'] }).ok).toBe(true);
    expect(validatePayload(UserCreateRequest, { ...user, roles: ['viewer', 'viewer'] }).ok).toBe(false);
    expect(validatePayload(UserCreateRequest, { ...user, traits: ['handles_phi'] }).ok).toBe(false);
    expect(validatePayload(UserCreateRequest, { ...user, username: 'a b' }).ok).toBe(false);
  });

  it('read the retry delay of a throttled login only', () => {
    const details = [{ path: 'retryAfterSeconds', messages: ['840'] }];

    expect(loginRetryAfterSeconds({ reason: LOGIN_THROTTLED_REASON, details })).toBe(840);
    expect(loginRetryAfterSeconds({ reason: 'invalid_credentials', details })).toBeUndefined();
    expect(loginRetryAfterSeconds({ reason: LOGIN_THROTTLED_REASON })).toBeUndefined();
  });
});
