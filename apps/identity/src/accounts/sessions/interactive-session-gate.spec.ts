import type { TokenVerifier, VerifiedToken } from '@vivified/auth';
import type { TokenClaims } from '@vivified/contracts';
import { ErrorCode, subjects, tokenContract } from '@vivified/contracts';
import type { Principal } from '@vivified/nats-transport';
import { NatsRequestContext } from '@vivified/nats-transport';
import { headers as natsHeaders } from 'nats';
import { describe, expect, it, vi } from 'vitest';

import type { AccountAuditEntry, AccountsAudit } from '../accounts-audit';
import { InteractiveSessionGate, isInteractive } from './interactive-session-gate';

const USER_ID = '5b0c1d7e-2f43-4c8a-9e61-3a7d2b9f0c11';
const NOW_S = 1_767_268_800;

function claimsOf(overrides: Partial<TokenClaims> = {}): TokenClaims {
  return {
    iss: tokenContract.issuer,
    aud: tokenContract.audience,
    sub: `user:${USER_ID}`,
    typ: 'user',
    traits: ['viewer'],
    roles: ['viewer'],
    sid: 'session-1',
    amr: ['password'],
    jti: 'jti-1',
    iat: NOW_S,
    exp: NOW_S + tokenContract.lifetimes.userAccess,
    ...overrides,
  };
}

/** An API-key token's claims: no roles, no session, `amr: ['api_key']` (or no amr, before the claim existed). */
function apiKeyClaims(amr: string[] | undefined = [tokenContract.apiKeyMethod]): TokenClaims {
  const { roles: _roles, sid: _sid, amr: _amr, ...rest } = claimsOf();

  return amr === undefined ? rest : { ...rest, amr };
}

const principal: Principal = { kind: 'user', id: USER_ID, traits: ['viewer'], roles: ['viewer'] };

function contextWith(caller: Principal | undefined, token: string | undefined): NatsRequestContext {
  const hdrs = natsHeaders();
  if (token !== undefined) {
    hdrs.set('Authorization', `Bearer ${token}`);
  }

  return new NatsRequestContext(subjects.identity.mfa.totpDisable, hdrs, undefined, [], caller);
}

function newTestService(claims: TokenClaims, verifiedAs: Principal = principal) {
  const verify = vi.fn((_token: string) => Promise.resolve<VerifiedToken>({ principal: verifiedAs, claims }));
  const records: AccountAuditEntry[] = [];
  const audit = {
    record: vi.fn((entry: AccountAuditEntry) => {
      records.push(entry);

      return Promise.resolve();
    }),
  };
  const sut = new InteractiveSessionGate(
    { verify } as unknown as TokenVerifier,
    audit as unknown as AccountsAudit,
  );

  return { sut, mocks: { verify, audit }, records };
}

describe('isInteractive', () => {
  it('accepts the access token of every kind of login session', () => {
    for (const method of [
      'password',
      'password+totp',
      'password+backup_code',
      'totp_enrollment',
      'webauthn',
    ]) {
      expect(isInteractive(claimsOf({ amr: [method] }))).toBe(true);
    }
  });

  it('accepts a session token signed before amr existed (it has a sid)', () => {
    const { amr: _amr, ...before } = claimsOf();

    expect(isInteractive(before)).toBe(true);
  });

  it('refuses an API-key token, with or without amr, and any unknown or empty method', () => {
    expect(isInteractive(apiKeyClaims())).toBe(false);
    expect(isInteractive(apiKeyClaims(undefined))).toBe(false);
    expect(isInteractive(claimsOf({ amr: [tokenContract.apiKeyMethod] }))).toBe(false);
    expect(isInteractive(claimsOf({ amr: ['password', 'api_key'] }))).toBe(false);
    expect(isInteractive(claimsOf({ amr: ['sso'] }))).toBe(false);
    expect(isInteractive(claimsOf({ amr: [] }))).toBe(false);
  });

  it('refuses plugin and service tokens', () => {
    expect(isInteractive(claimsOf({ typ: 'service', sub: 'service:gateway' }))).toBe(false);
    expect(isInteractive(claimsOf({ typ: 'plugin', sub: 'plugin:acme' }))).toBe(false);
  });
});

describe(InteractiveSessionGate.name, () => {
  it("answers the guard's principal for a token of an interactive session, and audits nothing", async () => {
    const { sut, mocks, records } = newTestService(claimsOf({ amr: ['webauthn'] }));

    await expect(sut.caller(contextWith(principal, 'session-token'), 'webauthn.remove')).resolves.toBe(
      principal,
    );

    expect(mocks.verify).toHaveBeenCalledWith('session-token');
    expect(records).toEqual([]);
  });

  it('refuses an API-key token with POLICY_DENIED interactive_session_required and audits the denial', async () => {
    const { sut, records } = newTestService(apiKeyClaims());

    await expect(
      sut.caller(contextWith(principal, 'api-key-token'), 'mfa.totp.disable'),
    ).rejects.toMatchObject({
      code: ErrorCode.PolicyDenied,
      reason: 'interactive_session_required',
    });

    expect(records).toEqual([
      {
        category: 'auth',
        action: 'mfa.totp.disable',
        outcome: 'denied',
        actor: { kind: 'user', id: `user:${USER_ID}` },
        target: `user:${USER_ID}`,
        details: { reason: 'interactive_session_required', amr: ['api_key'] },
      },
    ]);
  });

  it('refuses a caller that is not a user, or has no token, before verifying anything', async () => {
    const { sut, mocks } = newTestService(claimsOf());
    const service: Principal = { kind: 'service', id: 'gateway', traits: ['system_core'], roles: [] };

    await expect(sut.caller(contextWith(service, 'service-token'), 'api_key.create')).rejects.toMatchObject({
      code: ErrorCode.Unauthenticated,
      reason: 'user_required',
    });
    await expect(sut.caller(contextWith(principal, undefined), 'api_key.create')).rejects.toMatchObject({
      code: ErrorCode.Unauthenticated,
      reason: 'token_missing',
    });
    expect(mocks.verify).not.toHaveBeenCalled();
  });

  it("refuses a token that is not the guard's principal's", async () => {
    const other: Principal = { ...principal, id: '0f6a3b1c-9d2e-4f7a-8b5c-1e2d3c4b5a69' };
    const { sut, records } = newTestService(claimsOf(), other);

    await expect(sut.caller(contextWith(principal, 'other-token'), 'password.change')).rejects.toMatchObject({
      code: ErrorCode.Unauthenticated,
      reason: 'claims_invalid',
    });
    expect(records).toEqual([]);
  });
});
