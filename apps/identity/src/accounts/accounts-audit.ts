import { Inject, Injectable } from '@nestjs/common';
import type { AuditActor, AuditOutcome } from '@vivified/contracts';
import type { KeyedHasher } from '@vivified/crypto';
import type { AuditEmitter } from '@vivified/service-kit';
import { AUDIT_EMITTER } from '@vivified/service-kit';

import { USERNAME_HASHER } from './accounts.crypto';

/** Why a login attempt ended as it did (the `reason` of its audit record). */
export type LoginAuditReason =
  | 'ok'
  | 'bad_password'
  | 'unknown_user'
  | 'inactive'
  | 'locked'
  | 'mfa_required'
  | 'mfa_enrollment_required'
  | 'password_change_required'
  | 'bad_totp'
  | 'bad_backup_code'
  | 'throttled';

/** One login attempt for the audit trail; never a password, code or token. */
export interface LoginAuditEntry {
  outcome: AuditOutcome;
  reason: LoginAuditReason;
  actor: Pick<AuditActor, 'kind' | 'id'>;
  target?: string;
  /** How the session was opened, on success. */
  method?: string;
  ip?: string;
  /** A username that matched no account: recorded as a keyed hash only, never in clear. */
  unknownUsername?: string;
  /** This failure locked the account. */
  lockedNow?: boolean;
}

/** An account change for the audit trail. */
export interface AccountAuditEntry {
  category: 'auth' | 'user';
  action: string;
  outcome: AuditOutcome;
  actor: Pick<AuditActor, 'kind' | 'id'>;
  target?: string;
  details?: Record<string, unknown>;
}

/** Audit records of the accounts half (categories `auth` and `user`). */
@Injectable()
export class AccountsAudit {
  constructor(
    @Inject(AUDIT_EMITTER) private readonly emitter: AuditEmitter,
    @Inject(USERNAME_HASHER) private readonly usernames: KeyedHasher,
  ) {}

  /** Audits one login attempt (category `auth`, action `login`, the reason in `details.reason`). */
  async login(entry: LoginAuditEntry): Promise<void> {
    const { outcome, reason, actor, target, unknownUsername, ...details } = entry;
    await this.emitter.emit({
      category: 'auth',
      action: 'login',
      outcome,
      actor,
      ...(target === undefined ? {} : { target }),
      details: {
        reason,
        ...details,
        // lets an investigator group attempts on one name without the trail holding names typed by strangers
        ...(unknownUsername === undefined ? {} : { usernameHash: this.usernames.hash(unknownUsername) }),
      },
    });
  }

  /** Audits an account change. */
  async record(entry: AccountAuditEntry): Promise<void> {
    await this.emitter.emit({
      category: entry.category,
      action: entry.action,
      outcome: entry.outcome,
      actor: entry.actor,
      ...(entry.target === undefined ? {} : { target: entry.target }),
      details: entry.details ?? {},
    });
  }
}
