import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode, VivifiedError } from '@vivified/contracts';
import { PG_POOL, withTransaction } from '@vivified/service-kit';
import type { Pool, PoolClient } from 'pg';

/** A user with what its roles grant, as the services read it. */
export interface UserRecord {
  id: string;
  username: string;
  email: string | null;
  displayName: string | null;
  active: boolean;
  mustChangePassword: boolean;
  roles: string[];
  traits: string[];
  /** A role of the user requires MFA. */
  mfaRequired: boolean;
  /** TOTP is enabled. */
  mfaEnrolled: boolean;
  lockedUntil: Date | null;
  lastLoginAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A user as the login reads it: with its password hash. */
export interface LoginCandidate extends UserRecord {
  passwordHash: string;
}

/** A role row. */
export interface RoleRecord {
  name: string;
  description: string;
  traits: string[];
  mfaRequired: boolean;
}

/** The fields of a new user. */
export interface NewUser {
  username: string;
  email: string | null;
  displayName: string | null;
  passwordHash: string;
  roles: string[];
  mustChangePassword: boolean;
}

/** The fields an update may change; undefined leaves one as it is. */
export interface UserChanges {
  email?: string;
  displayName?: string;
  active?: boolean;
}

interface UserRow {
  id: string;
  username: string;
  email: string | null;
  display_name: string | null;
  active: boolean;
  must_change_password: boolean;
  roles: string[];
  traits: string[];
  mfa_required: boolean;
  mfa_enrolled: boolean;
  locked_until: Date | null;
  last_login_at: Date | null;
  created_at: Date;
  updated_at: Date;
  password_hash?: string;
}

const SELECT_USER = `
  SELECT u.id, u.username, u.email, u.display_name, u.active, u.must_change_password, u.last_login_at,
         u.created_at, u.updated_at,
         COALESCE(g.roles, '{}') AS roles,
         COALESCE(g.traits, '{}') AS traits,
         COALESCE(g.mfa_required, false) AS mfa_required,
         (t.enabled_at IS NOT NULL) AS mfa_enrolled,
         s.locked_until`;

const FROM_USER = `
  FROM users u
  LEFT JOIN LATERAL (
    SELECT array_agg(r.name ORDER BY r.name) AS roles,
           bool_or(r.mfa_required) AS mfa_required,
           (SELECT array_agg(DISTINCT trait ORDER BY trait)
              FROM user_roles ur2 JOIN roles r2 ON r2.name = ur2.role, unnest(r2.traits) AS trait
             WHERE ur2.user_id = u.id) AS traits
      FROM user_roles ur JOIN roles r ON r.name = ur.role
     WHERE ur.user_id = u.id
  ) g ON true
  LEFT JOIN user_totp t ON t.user_id = u.id AND t.enabled_at IS NOT NULL
  LEFT JOIN user_login_state s ON s.user_id = u.id`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toRecord(row: UserRow): UserRecord {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    displayName: row.display_name,
    active: row.active,
    mustChangePassword: row.must_change_password,
    roles: row.roles,
    traits: row.traits,
    mfaRequired: row.mfa_required,
    mfaEnrolled: row.mfa_enrolled,
    lockedUntil: row.locked_until,
    lastLoginAt: row.last_login_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown }).code === '23505';
}

function conflict(cause: unknown): VivifiedError {
  return new VivifiedError(ErrorCode.Conflict, 'username or email already in use', {
    reason: 'user_exists',
    cause,
  });
}

/** Users, their roles and the roles table. */
@Injectable()
export class UsersRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** The user of a (lower-case) username with its password hash, active or not. */
  async findLoginCandidate(username: string): Promise<LoginCandidate | undefined> {
    const { rows } = await this.pool.query<UserRow>(
      `${SELECT_USER}, u.password_hash ${FROM_USER} WHERE u.username = $1`,
      [username],
    );
    const row = rows[0];

    return row ? { ...toRecord(row), passwordHash: row.password_hash ?? '' } : undefined;
  }

  /** The user of an id, active or not; undefined for an unknown id or one that is not a UUID. */
  async findById(id: string): Promise<UserRecord | undefined> {
    if (!UUID.test(id)) {
      return undefined;
    }
    const { rows } = await this.pool.query<UserRow>(`${SELECT_USER} ${FROM_USER} WHERE u.id = $1`, [id]);

    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async findByUsername(username: string): Promise<UserRecord | undefined> {
    const { rows } = await this.pool.query<UserRow>(`${SELECT_USER} ${FROM_USER} WHERE u.username = $1`, [
      username,
    ]);

    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /** Up to `limit` users in username order, after `afterUsername` when given. */
  async list(limit: number, afterUsername: string | undefined): Promise<UserRecord[]> {
    const { rows } = await this.pool.query<UserRow>(
      `${SELECT_USER} ${FROM_USER} WHERE ($1::text IS NULL OR u.username > $1) ORDER BY u.username LIMIT $2`,
      [afterUsername ?? null, limit],
    );

    return rows.map(toRecord);
  }

  /** Creates a user with its roles; a taken username or email is `CONFLICT`. Answers the new id. */
  async create(user: NewUser): Promise<string> {
    try {
      return await withTransaction(this.pool, (client) => this.insert(client, user));
    } catch (error) {
      throw isUniqueViolation(error) ? conflict(error) : error;
    }
  }

  /**
   * Creates the first admin unless a user holding `role` exists, under a transaction-scoped advisory lock so
   * replicas starting together create it once. Answers the new user's id, or undefined when nothing was done.
   */
  async createFirstAdmin(user: NewUser, role: string): Promise<string | undefined> {
    return withTransaction(this.pool, async (client) => {
      await client.query(
        `SELECT pg_advisory_xact_lock(hashtextextended('vivified.identity.first-admin', 0))`,
      );
      const { rowCount } = await client.query(
        `SELECT 1 FROM user_roles ur JOIN users u ON u.id = ur.user_id WHERE ur.role = $1 LIMIT 1`,
        [role],
      );
      if (rowCount) {
        return undefined;
      }
      const { rows } = await client.query<{ id: string }>(
        `INSERT INTO users (username, email, display_name, password_hash, must_change_password)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (username) DO NOTHING RETURNING id`,
        [user.username, user.email, user.displayName, user.passwordHash, user.mustChangePassword],
      );
      const id = rows[0]?.id;
      if (!id) {
        return undefined;
      }
      await this.assignRoles(client, id, user.roles);

      return id;
    });
  }

  /** Applies the given changes; answers false when the user does not exist. */
  async update(id: string, changes: UserChanges): Promise<boolean> {
    try {
      const { rowCount } = await this.pool.query(
        `UPDATE users
            SET email = CASE WHEN $2::boolean THEN $3 ELSE email END,
                display_name = CASE WHEN $4::boolean THEN $5 ELSE display_name END,
                active = COALESCE($6, active),
                updated_at = now()
          WHERE id = $1`,
        [
          id,
          changes.email !== undefined,
          changes.email ?? null,
          changes.displayName !== undefined,
          changes.displayName ?? null,
          changes.active ?? null,
        ],
      );

      return rowCount === 1;
    } catch (error) {
      throw isUniqueViolation(error) ? conflict(error) : error;
    }
  }

  /** Replaces a user's roles; answers false when the user does not exist. */
  async setRoles(id: string, roles: string[]): Promise<boolean> {
    return withTransaction(this.pool, async (client) => {
      const { rowCount } = await client.query('UPDATE users SET updated_at = now() WHERE id = $1', [id]);
      if (rowCount !== 1) {
        return false;
      }
      await client.query('DELETE FROM user_roles WHERE user_id = $1', [id]);
      await this.assignRoles(client, id, roles);

      return true;
    });
  }

  /** Sets a new password chosen by the user, which also clears a one-time password's must-change flag. */
  async setPassword(id: string, passwordHash: string): Promise<void> {
    await this.pool.query(
      'UPDATE users SET password_hash = $2, must_change_password = false, updated_at = now() WHERE id = $1',
      [id, passwordHash],
    );
  }

  /**
   * Sets the password a login required and clears the must-change flag, only while the flag is set: answers false
   * when it was not (the change was made already), so one password-change token sets one password.
   */
  async setRequiredPassword(id: string, passwordHash: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE users SET password_hash = $2, must_change_password = false, updated_at = now()
        WHERE id = $1 AND must_change_password`,
      [id, passwordHash],
    );

    return rowCount === 1;
  }

  /** An admin's reset: a one-time password the user must change at its next login. */
  async setOneTimePassword(id: string, passwordHash: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'UPDATE users SET password_hash = $2, must_change_password = true, updated_at = now() WHERE id = $1',
      [id, passwordHash],
    );

    return rowCount === 1;
  }

  async updatePasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.pool.query('UPDATE users SET password_hash = $2 WHERE id = $1', [id, passwordHash]);
  }

  async markLogin(id: string): Promise<void> {
    await this.pool.query('UPDATE users SET last_login_at = now() WHERE id = $1', [id]);
  }

  /** How many active users hold `role`. */
  async countActiveWithRole(role: string): Promise<number> {
    const { rows } = await this.pool.query<{ count: string }>(
      `SELECT count(*) AS count FROM user_roles ur JOIN users u ON u.id = ur.user_id
        WHERE ur.role = $1 AND u.active`,
      [role],
    );

    return Number(rows[0]?.count ?? 0);
  }

  async listRoles(): Promise<RoleRecord[]> {
    const { rows } = await this.pool.query<{
      name: string;
      description: string;
      traits: string[];
      mfa_required: boolean;
    }>('SELECT name, description, traits, mfa_required FROM roles ORDER BY name');

    return rows.map((row) => ({
      name: row.name,
      description: row.description,
      traits: [...row.traits].sort(),
      mfaRequired: row.mfa_required,
    }));
  }

  private async insert(client: PoolClient, user: NewUser): Promise<string> {
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO users (username, email, display_name, password_hash, must_change_password)
       VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      [user.username, user.email, user.displayName, user.passwordHash, user.mustChangePassword],
    );
    const id = rows[0]?.id;
    if (!id) {
      throw new Error('INSERT … RETURNING id returned no row');
    }
    await this.assignRoles(client, id, user.roles);

    return id;
  }

  private async assignRoles(client: PoolClient, id: string, roles: string[]): Promise<void> {
    if (roles.length > 0) {
      await client.query(
        'INSERT INTO user_roles (user_id, role) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING',
        [id, roles],
      );
    }
  }
}
