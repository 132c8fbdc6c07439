import type { MfaCoverageReading } from './mfa-coverage.client';

/** `ok`: every PHI user has a second factor; `gap`: some have none; `unknown`: identity gave no figures. */
export type MfaCoverageStatus = 'ok' | 'gap' | 'unknown';

/** The MFA part of the 164.312(d) safeguard: its evidence, the safeguard status it implies, and a note. */
export interface MfaEvidence {
  status: MfaCoverageStatus;
  /** `evidence.mfaCoverageOfPhiUsers` of the report. */
  evidence: Record<string, unknown>;
  /** The 164.312(d) status: `met` for ok, `partial` for a gap, `unknown` without figures. */
  safeguardStatus: 'met' | 'partial' | 'unknown';
  note?: string;
}

/** Turns identity's answer (or its absence) into the report's MFA evidence. */
export function mfaEvidence(reading: MfaCoverageReading): MfaEvidence {
  if (!reading.ok) {
    return {
      status: 'unknown',
      evidence: { status: 'unknown', reason: reading.reason },
      safeguardStatus: 'unknown',
      note: `MFA coverage of PHI users is unknown: identity did not answer (${reading.reason})`,
    };
  }
  const { users, phiUsers, adminUsers, generatedAt } = reading.coverage;
  const status: MfaCoverageStatus = phiUsers.withoutMfa === 0 ? 'ok' : 'gap';
  const evidence = {
    status,
    phiUsers: phiUsers.total,
    withMfa: phiUsers.withMfa,
    withTotp: phiUsers.withTotp,
    withPasskey: phiUsers.withPasskey,
    withoutMfa: phiUsers.withoutMfa,
    withoutMfaIds: phiUsers.withoutMfaIds,
    adminUsers: { total: adminUsers.total, withMfa: adminUsers.withMfa },
    activeUsers: users.active,
    readAt: generatedAt,
  };

  return status === 'ok'
    ? { status, evidence, safeguardStatus: 'met' }
    : {
        status,
        evidence,
        safeguardStatus: 'partial',
        note: `${phiUsers.withoutMfa} of ${phiUsers.total} PHI users have no second factor (TOTP or passkey)`,
      };
}
