import { Injectable } from '@nestjs/common';

import type { UserDirectory, UserSnapshot } from '../ports';
import { toSnapshot } from './user-views';
import { UsersRepository } from './users.repository';

/** The {@link UserDirectory} the token half reads (refresh re-reads roles; an inactive user gets nothing). */
@Injectable()
export class PostgresUserDirectory implements UserDirectory {
  constructor(private readonly users: UsersRepository) {}

  async findActive(userId: string): Promise<UserSnapshot | undefined> {
    const user = await this.users.findById(userId);

    return user?.active ? toSnapshot(user) : undefined;
  }

  async findActiveByUsername(username: string): Promise<UserSnapshot | undefined> {
    const user = await this.users.findByUsername(username.trim().toLowerCase());

    return user?.active ? toSnapshot(user) : undefined;
  }
}
