import { createHmac } from 'node:crypto';

import type { PasskeySummary } from '@vivified/contracts';
import { ErrorCode, VivifiedError } from '@vivified/contracts';

import type { StoredPasskey } from './webauthn.repository';

/** COSE algorithms accepted for new passkeys: EdDSA, ES256, RS256 (no post-quantum ones the browser may not know). */
export const SUPPORTED_ALGORITHMS = [-8, -7, -257];

/** Label of a passkey registered without one. */
export const DEFAULT_LABEL = 'Passkey';

/** Why a ceremony failed; goes to the audit trail only, never to a login caller. */
export type FailureReason =
  | 'ceremony_unknown'
  | 'ceremony_expired'
  | 'ceremony_user_mismatch'
  | 'credential_id_mismatch'
  | 'unknown_credential'
  | 'credential_not_allowed'
  | 'user_handle_mismatch'
  | 'verification_failed'
  | 'counter_not_increased'
  | 'user_inactive'
  | 'locked';

/** The WebAuthn user handle of a user: its UUID's 16 bytes, base64url (opaque, no personal data). */
export function userHandleOf(userId: string): string {
  return Buffer.from(userId.replace(/-/g, ''), 'hex').toString('base64url');
}

/**
 * A stable fake credential id for a username without passkeys, so login options look alike whether or not the
 * username exists (HMAC-SHA256 under a per-deployment key).
 */
export function decoyCredentialId(key: Uint8Array, username: string): string {
  return createHmac('sha256', key).update(`webauthn-decoy:${username}`).digest().toString('base64url');
}

/** Config origins (`http://localhost:8080/`) as browsers write them in client data (`http://localhost:8080`). */
export function expectedOrigins(origins: readonly string[]): string[] {
  return [...new Set(origins.map((origin) => new URL(origin).origin))];
}

/** The one answer to every failed passkey login, whatever went wrong (no oracle). */
export function invalidCredentials(): VivifiedError {
  return new VivifiedError(ErrorCode.Unauthenticated, 'invalid credentials');
}

/** A passkey as its owner sees it: no key material, no credential id. */
export function toSummary(passkey: StoredPasskey): PasskeySummary {
  return {
    id: passkey.id,
    label: passkey.label,
    aaguid: passkey.aaguid,
    deviceType: passkey.deviceType,
    backedUp: passkey.backedUp,
    transports: passkey.transports,
    createdAt: passkey.createdAt.toISOString(),
    ...(passkey.lastUsedAt ? { lastUsedAt: passkey.lastUsedAt.toISOString() } : {}),
  };
}
