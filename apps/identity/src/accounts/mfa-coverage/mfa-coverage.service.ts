import { Inject, Injectable } from '@nestjs/common';
import type { MfaCoverageReply } from '@vivified/contracts';
import { MFA_COVERAGE_MAX_IDS } from '@vivified/contracts';
import { effectiveTraits, traitRegistry } from '@vivified/policy-engine';

import type { AccountsClock } from '../accounts.clock';
import { ACCOUNTS_CLOCK } from '../accounts.clock';
import { MfaCoverageRepository } from './mfa-coverage.repository';

const PHI_TRAIT = 'handles_phi';
const ADMIN_TRAIT = 'admin';

/** `handles_phi` and every legacy name that resolves to it: a user needs one of them to be a PHI user at all. */
const PHI_NAMES: readonly string[] = traitRegistry
  .all()
  .filter((definition) => traitRegistry.canonicalName(definition.name) === PHI_TRAIT)
  .map((definition) => definition.name);

/**
 * MFA coverage of PHI users and admins (contract `MfaCoverageReply`): the repository groups users by their
 * roles' traits in one query, and each group's effective traits are worked out as the policy engine does.
 */
@Injectable()
export class MfaCoverageService {
  constructor(
    private readonly repository: MfaCoverageRepository,
    @Inject(ACCOUNTS_CLOCK) private readonly clock: AccountsClock,
  ) {}

  async coverage(): Promise<MfaCoverageReply> {
    const groups = await this.repository.groups(MFA_COVERAGE_MAX_IDS, PHI_NAMES);
    const users = { total: 0, active: 0 };
    const phi = { total: 0, withMfa: 0, withTotp: 0, withPasskey: 0 };
    const admins = { total: 0, withMfa: 0 };
    const withoutMfaIds: string[] = [];
    for (const group of groups) {
      users.total += group.users;
      if (!group.active) {
        continue;
      }
      users.active += group.users;
      const effective = effectiveTraits(group.traits);
      if (effective.has(PHI_TRAIT)) {
        phi.total += group.users;
        phi.withMfa += group.withMfa;
        phi.withTotp += group.withTotp;
        phi.withPasskey += group.withPasskey;
        withoutMfaIds.push(...group.withoutMfaIds);
      }
      if (effective.has(ADMIN_TRAIT)) {
        admins.total += group.users;
        admins.withMfa += group.withMfa;
      }
    }
    // lower-case hex uuids sort as PostgreSQL orders them, so the cut keeps the first ids across groups
    withoutMfaIds.sort();

    return {
      users,
      phiUsers: {
        ...phi,
        withoutMfa: phi.total - phi.withMfa,
        withoutMfaIds: withoutMfaIds.slice(0, MFA_COVERAGE_MAX_IDS),
      },
      adminUsers: admins,
      generatedAt: new Date(this.clock.now()).toISOString(),
    };
  }
}
