import { Inject, Injectable } from '@nestjs/common';
import { PG_POOL } from '@vivified/service-kit';
import type { Pool } from 'pg';

/** The users that hold the same traits (the union over their roles), with the same `active` flag. */
export interface TraitGroup {
  active: boolean;
  /** The union of the traits of the group's roles, sorted, as stored (aliases not resolved). */
  traits: string[];
  users: number;
  withTotp: number;
  withPasskey: number;
  /** TOTP or a passkey. */
  withMfa: number;
  /**
   * For an active group holding one of the candidate traits: ids of its users without a second factor, in id
   * order, at most the limit asked for; empty otherwise.
   */
  withoutMfaIds: string[];
}

interface GroupRow {
  active: boolean;
  traits: string[];
  users: number;
  with_totp: number;
  with_passkey: number;
  with_mfa: number;
  without_mfa_ids: string[] | null;
}

/**
 * One statement (one snapshot): every user with the union of its roles' traits and whether it has TOTP enabled or
 * a passkey, grouped by (active, traits). There are as many groups as distinct role combinations in use, so the
 * caller can apply the policy engine's trait rules per group instead of per user.
 */
const COVERAGE_BY_TRAITS = `
  WITH per_user AS (
    SELECT u.id, u.active,
           COALESCE((SELECT array_agg(DISTINCT trait ORDER BY trait)
                       FROM user_roles ur JOIN roles r ON r.name = ur.role, unnest(r.traits) AS trait
                      WHERE ur.user_id = u.id), '{}'::text[]) AS traits,
           EXISTS (SELECT 1 FROM user_totp t WHERE t.user_id = u.id AND t.enabled_at IS NOT NULL) AS totp,
           EXISTS (SELECT 1 FROM webauthn_credentials c WHERE c.user_id = u.id) AS passkey
      FROM users u
  )
  SELECT active, traits,
         count(*)::int AS users,
         (count(*) FILTER (WHERE totp))::int AS with_totp,
         (count(*) FILTER (WHERE passkey))::int AS with_passkey,
         (count(*) FILTER (WHERE totp OR passkey))::int AS with_mfa,
         (array_agg(id::text ORDER BY id)
            FILTER (WHERE active AND NOT (totp OR passkey) AND traits && $2::text[]))[1:$1::int] AS without_mfa_ids
    FROM per_user
   GROUP BY active, traits`;

/** Reads identity's users, roles, TOTP and passkey tables for the MFA coverage report. */
@Injectable()
export class MfaCoverageRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /**
   * Every (active, traits) group with its second-factor counts; ids of users without one are listed only for
   * active groups holding one of `idTraits`, `idLimit` per group at most.
   */
  async groups(idLimit: number, idTraits: readonly string[]): Promise<TraitGroup[]> {
    const { rows } = await this.pool.query<GroupRow>(COVERAGE_BY_TRAITS, [idLimit, [...idTraits]]);

    return rows.map((row) => ({
      active: row.active,
      traits: row.traits,
      users: row.users,
      withTotp: row.with_totp,
      withPasskey: row.with_passkey,
      withMfa: row.with_mfa,
      withoutMfaIds: row.without_mfa_ids ?? [],
    }));
  }
}
