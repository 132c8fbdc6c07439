import type { MfaCoverageReply } from '@vivified/contracts';
import { describe, expect, it } from 'vitest';

import { mfaEvidence } from './mfa-evidence';

const ID = '0b7f2a4e-8c1d-4e5f-9a6b-7c8d9e0f1a2b';

function coverage(phi: Partial<MfaCoverageReply['phiUsers']>): MfaCoverageReply {
  return {
    users: { total: 12, active: 10 },
    phiUsers: { total: 4, withMfa: 4, withTotp: 3, withPasskey: 2, withoutMfa: 0, withoutMfaIds: [], ...phi },
    adminUsers: { total: 2, withMfa: 2 },
    generatedAt: '2025-01-02T03:04:05.000Z',
  };
}

describe('the MFA evidence of 164.312(d)', () => {
  it('is ok and the safeguard met when every PHI user has a second factor', () => {
    const mfa = mfaEvidence({ ok: true, coverage: coverage({}) });

    expect(mfa).toEqual({
      status: 'ok',
      safeguardStatus: 'met',
      evidence: {
        status: 'ok',
        phiUsers: 4,
        withMfa: 4,
        withTotp: 3,
        withPasskey: 2,
        withoutMfa: 0,
        withoutMfaIds: [],
        adminUsers: { total: 2, withMfa: 2 },
        activeUsers: 10,
        readAt: '2025-01-02T03:04:05.000Z',
      },
    });
  });

  it('is a gap, the safeguard partial, with the count and the ids, when some PHI users have none', () => {
    const mfa = mfaEvidence({
      ok: true,
      coverage: coverage({ withMfa: 3, withoutMfa: 1, withoutMfaIds: [ID] }),
    });

    expect(mfa.status).toBe('gap');
    expect(mfa.safeguardStatus).toBe('partial');
    expect(mfa.evidence).toMatchObject({ status: 'gap', withoutMfa: 1, withoutMfaIds: [ID] });
    expect(mfa.note).toBe('1 of 4 PHI users have no second factor (TOTP or passkey)');
  });

  it('is unknown, with the reason, only when identity gave no figures', () => {
    const mfa = mfaEvidence({ ok: false, reason: 'UNAVAILABLE' });

    expect(mfa).toEqual({
      status: 'unknown',
      safeguardStatus: 'unknown',
      evidence: { status: 'unknown', reason: 'UNAVAILABLE' },
      note: 'MFA coverage of PHI users is unknown: identity did not answer (UNAVAILABLE)',
    });
  });
});
