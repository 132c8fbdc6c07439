import { Inject, Injectable } from '@nestjs/common';

import type { AccountsClock } from '../accounts.clock';
import { ACCOUNTS_CLOCK } from '../accounts.clock';
import { afterFailure, isLocked } from './lockout';
import { LoginStateRepository } from './login-state.repository';

/** Per-account lockout after consecutive failures (rules in lockout.ts, state in PostgreSQL). */
@Injectable()
export class LockoutService {
  constructor(
    private readonly states: LoginStateRepository,
    @Inject(ACCOUNTS_CLOCK) private readonly clock: AccountsClock,
  ) {}

  async isLocked(userId: string): Promise<boolean> {
    return isLocked(await this.states.read(userId), this.clock.now());
  }

  /** Counts a failure; answers whether it locked the account. */
  recordFailure(userId: string): Promise<boolean> {
    const now = this.clock.now();

    return this.states.change(userId, (state) => {
      const next = afterFailure(state, now);

      return { state: next.state, result: next.lockedNow };
    });
  }

  /** Forgets failures and lifts any lock (successful login, admin unlock). */
  clear(userId: string): Promise<void> {
    return this.states.clear(userId);
  }
}
