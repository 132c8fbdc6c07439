import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';
import { randomToken } from '@vivified/crypto';
import type { ServiceLogger } from '@vivified/service-kit';
import { SERVICE_CONFIG, SERVICE_LOGGER } from '@vivified/service-kit';

import type { IdentityConfig } from '../ports';
import { AccountsAudit } from '../accounts-audit';
import { userTarget } from '../caller';
import { PasswordHasher } from '../password/password-hasher';
import { assertPasswordAcceptable } from '../password/password-policy';
import { UsersRepository } from './users.repository';

/** Writes the one-time password of a generated first admin where the operator sees it: stdout, not the log. */
export type OneTimeOutput = (text: string) => void;

/** Injection token of the {@link OneTimeOutput}; the module writes to `process.stdout`. */
export const ONE_TIME_OUTPUT = Symbol('ONE_TIME_OUTPUT');

const ADMIN_ROLE = 'admin';

/** Prefix of the one stdout line that carries a one-time secret for the operator (matched by `npm start`). */
export const ONE_TIME_SECRET_PREFIX = 'VIVIFIED-ONE-TIME-SECRET ';

/**
 * Creates the first admin on the first start (ARCHITECTURE §4): `VIVIFIED_ADMIN_USERNAME` with
 * `VIVIFIED_ADMIN_PASSWORD`, or with a generated one-time password printed once to stdout and the account flagged
 * `mustChangePassword`. Replicas starting together create it once (advisory lock in the repository). There is no
 * other way in: no bypass key, no dev token.
 */
@Injectable()
export class FirstAdminService implements OnApplicationBootstrap {
  constructor(
    private readonly users: UsersRepository,
    private readonly passwords: PasswordHasher,
    private readonly audit: AccountsAudit,
    @Inject(SERVICE_CONFIG) private readonly config: IdentityConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
    @Inject(ONE_TIME_OUTPUT) private readonly output: OneTimeOutput,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if ((await this.users.countActiveWithRole(ADMIN_ROLE)) > 0) {
      return;
    }
    const username = this.config.adminUsername.toLowerCase();
    const given = this.config.adminPassword;
    if (given !== undefined) {
      // a weak configured password stops the start rather than guarding the platform
      assertPasswordAcceptable(given, username);
    }
    const password = given ?? randomToken(18);
    const id = await this.users.createFirstAdmin(
      {
        username,
        email: null,
        displayName: 'Administrator',
        passwordHash: await this.passwords.hash(password),
        roles: [ADMIN_ROLE],
        mustChangePassword: given === undefined,
      },
      ADMIN_ROLE,
    );
    if (!id) {
      return;
    }
    this.logger.info(
      { username, passwordSource: given === undefined ? 'generated' : 'environment' },
      'first admin created',
    );
    await this.audit.record({
      category: 'user',
      action: 'user.first-admin',
      outcome: 'success',
      actor: { kind: 'service', id: 'service:identity' },
      target: userTarget(id),
      details: { roles: [ADMIN_ROLE], generated: given === undefined },
    });
    if (given === undefined) {
      // one line npm start recognises (tools/scripts/lib/processes.mjs): shown in its summary, kept out of log files
      this.output(
        `${ONE_TIME_SECRET_PREFIX}${JSON.stringify({
          kind: 'first-admin',
          username,
          password,
          note: 'one-time password, shown once and never logged: sign in, change it, then enrol TOTP',
        })}\n`,
      );
    }
  }
}
