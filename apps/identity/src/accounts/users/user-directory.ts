import { Injectable } from '@nestjs/common';

import type { LoginStanding, UserDirectory, UserSnapshot } from '../ports';
import { LockoutService } from '../login/lockout.service';
import { toSnapshot } from './user-views';
import { UsersRepository } from './users.repository';

/** The {@link UserDirectory} the token half reads (refresh re-reads roles; an inactive user gets nothing). */
@Injectable()
export class PostgresUserDirectory implements UserDirectory {
  constructor(
    private readonly users: UsersRepository,
    private readonly lockout: LockoutService,
  ) {}

  async findActive(userId: string): Promise<UserSnapshot | undefined> {
    const user = await this.users.findById(userId);

    return user?.active ? toSnapshot(user) : undefined;
  }

  async findActiveByUsername(username: string): Promise<UserSnapshot | undefined> {
    const user = await this.users.findByUsername(username.trim().toLowerCase());

    return user?.active ? toSnapshot(user) : undefined;
  }

  async loginStanding(userId: string): Promise<LoginStanding | undefined> {
    const user = await this.users.findById(userId);
    if (!user?.active) {
      return undefined;
    }

    return {
      user: toSnapshot(user),
      locked: await this.lockout.isLocked(user.id),
      mustChangePassword: user.mustChangePassword,
    };
  }

  async recordLogin(userId: string): Promise<void> {
    await this.lockout.clear(userId);
    await this.users.markLogin(userId);
  }
}
