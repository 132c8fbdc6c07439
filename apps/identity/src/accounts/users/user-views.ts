import type { RoleView, UserProfile, UserView } from '@vivified/contracts';

import type { UserSnapshot } from '../ports';
import type { RoleRecord, UserRecord } from './users.repository';

/** What the token half needs of a user. */
export function toSnapshot(user: UserRecord): UserSnapshot {
  return {
    id: user.id,
    username: user.username,
    roles: [...user.roles],
    traits: [...user.traits],
    active: user.active,
  };
}

/** The caller's own profile. */
export function toProfile(user: UserRecord): UserProfile {
  return {
    id: user.id,
    username: user.username,
    ...(user.email === null ? {} : { email: user.email }),
    ...(user.displayName === null ? {} : { displayName: user.displayName }),
    roles: [...user.roles],
    traits: [...user.traits],
    mfaEnrolled: user.mfaEnrolled,
    mustChangePassword: user.mustChangePassword,
  };
}

/** A user as administrators see it; `lockedUntil` only while the lock lasts. */
export function toUserView(user: UserRecord, now: number): UserView {
  return {
    ...toProfile(user),
    active: user.active,
    ...(user.lockedUntil && user.lockedUntil.getTime() > now
      ? { lockedUntil: user.lockedUntil.toISOString() }
      : {}),
    ...(user.lastLoginAt ? { lastLoginAt: user.lastLoginAt.toISOString() } : {}),
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}

export function toRoleView(role: RoleRecord): RoleView {
  return {
    name: role.name,
    description: role.description,
    traits: [...role.traits],
    mfaRequired: role.mfaRequired,
  };
}
