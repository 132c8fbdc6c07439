import { Inject, Injectable } from '@nestjs/common';
import type {
  RoleListReply,
  UserCreateRequest,
  UserListReply,
  UserListRequest,
  UserProfile,
  UserSetRolesRequest,
  UserUpdateRequest,
  UserView,
} from '@vivified/contracts';
import { ErrorCode, UNKNOWN_ROLE_REASON, VivifiedError } from '@vivified/contracts';

import type { TokenIssuer } from '../ports';
import { TOKEN_ISSUER } from '../ports';
import type { AccountsClock } from '../accounts.clock';
import { ACCOUNTS_CLOCK } from '../accounts.clock';
import { AccountsAudit } from '../accounts-audit';
import type { UserCaller } from '../caller';
import { userTarget } from '../caller';
import { LockoutService } from '../login/lockout.service';
import { PasswordHasher } from '../password/password-hasher';
import { assertPasswordAcceptable } from '../password/password-policy';
import { SessionRevocations } from '../sessions/session-revocations';
import { toProfile, toRoleView, toUserView } from './user-views';
import type { UserRecord } from './users.repository';
import { UsersRepository } from './users.repository';

const DEFAULT_PAGE = 50;
const DEFAULT_ROLES = ['viewer'];
/** The role that must keep at least one active holder. */
const ADMIN_ROLE = 'admin';
const USERNAME_CURSOR = /^[a-z0-9][a-z0-9._-]{2,63}$/;

const notFound = () => new VivifiedError(ErrorCode.NotFound, 'no such user', { reason: 'user_not_found' });

const lastAdmin = () =>
  new VivifiedError(
    ErrorCode.Conflict,
    'the last active admin cannot lose the admin role or be deactivated',
    {
      reason: 'last_admin',
    },
  );

function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) {
    return undefined;
  }
  const username = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!USERNAME_CURSOR.test(username)) {
    throw new VivifiedError(ErrorCode.BadRequest, 'invalid cursor', { reason: 'invalid_cursor' });
  }

  return username;
}

/** Users and roles as administrators manage them, and each user's own profile. */
@Injectable()
export class UsersService {
  constructor(
    private readonly users: UsersRepository,
    private readonly passwords: PasswordHasher,
    private readonly lockout: LockoutService,
    @Inject(TOKEN_ISSUER) private readonly tokens: TokenIssuer,
    private readonly audit: AccountsAudit,
    @Inject(ACCOUNTS_CLOCK) private readonly clock: AccountsClock,
    private readonly revocations: SessionRevocations,
  ) {}

  async profile(caller: UserCaller): Promise<UserProfile> {
    const user = await this.users.findById(caller.userId);
    if (!user?.active) {
      throw new VivifiedError(ErrorCode.Unauthenticated, 'a signed-in user is required', {
        reason: 'user_inactive',
      });
    }

    return toProfile(user);
  }

  async list(request: UserListRequest): Promise<UserListReply> {
    const limit = request.limit ?? DEFAULT_PAGE;
    const rows = await this.users.list(limit + 1, decodeCursor(request.cursor));
    const page = rows.slice(0, limit);
    const last = page.at(-1);

    return {
      users: page.map((user) => this.view(user)),
      ...(rows.length > limit && last
        ? { nextCursor: Buffer.from(last.username).toString('base64url') }
        : {}),
    };
  }

  async get(id: string): Promise<UserView> {
    return this.view(await this.existing(id));
  }

  async create(caller: UserCaller, request: UserCreateRequest): Promise<UserView> {
    const username = request.username.toLowerCase();
    assertPasswordAcceptable(request.password, username);
    const roles = request.roles ?? DEFAULT_ROLES;
    await this.assertRolesExist(roles);
    const id = await this.users.create({
      username,
      email: request.email ?? null,
      displayName: request.displayName ?? null,
      passwordHash: await this.passwords.hash(request.password),
      roles,
      mustChangePassword: request.mustChangePassword ?? false,
    });
    await this.audit.record({
      category: 'user',
      action: 'user.create',
      outcome: 'success',
      actor: caller.actor,
      target: userTarget(id),
      details: { roles },
    });

    return this.get(id);
  }

  /**
   * Changes email, display name or the active flag; deactivation ends every session of the user. Its revocation
   * is published first (every access token of the user refused at every service): when it cannot be, nothing
   * changes and the answer is `UNAVAILABLE` `revocation_unavailable`. A reactivation (`active: true`) publishes
   * the lifted deactivation after the change; when that fails the user stays refused until the call is repeated.
   */
  async update(caller: UserCaller, request: UserUpdateRequest): Promise<UserView> {
    const user = await this.existing(request.id);
    const deactivating = request.active === false && user.active;
    if (deactivating && caller.userId === user.id) {
      throw new VivifiedError(ErrorCode.Conflict, 'you cannot deactivate your own account', {
        reason: 'self_deactivation',
      });
    }
    if (deactivating && user.roles.includes(ADMIN_ROLE)) {
      await this.assertAnotherAdmin();
    }
    const changes = {
      ...(request.email === undefined ? {} : { email: request.email }),
      ...(request.displayName === undefined ? {} : { displayName: request.displayName }),
      ...(request.active === undefined ? {} : { active: request.active }),
    };
    if (deactivating) {
      await this.revocations.deactivate(user.id);
    }
    const updated = await this.users.update(user.id, changes).catch(async (error: unknown) => {
      await this.undoDeactivation(deactivating, user.id);
      throw error;
    });
    if (!updated) {
      await this.undoDeactivation(deactivating, user.id);
      throw notFound();
    }
    if (request.active === true) {
      await this.revocations.reactivate(user.id);
    }
    const sessionsEnded = deactivating ? await this.tokens.revokeUserSessions(user.id, 'deactivated') : 0;
    await this.audit.record({
      category: 'user',
      action: deactivating ? 'user.deactivate' : 'user.update',
      outcome: 'success',
      actor: caller.actor,
      target: userTarget(user.id),
      // field names only: the values may be personal data
      details: { fields: Object.keys(changes), ...(deactivating ? { sessionsEnded } : {}) },
    });

    return this.get(user.id);
  }

  /**
   * Replaces the user's roles; a user newly required to use MFA without it loses its sessions. Every access token
   * of the user carries the old traits, so each is revoked: published before the change (when it cannot be,
   * nothing changes) and again after it (a token refreshed in between carries the old roles too).
   */
  async setRoles(caller: UserCaller, request: UserSetRolesRequest): Promise<UserView> {
    const user = await this.existing(request.id);
    const known = await this.assertRolesExist(request.roles);
    if (user.active && user.roles.includes(ADMIN_ROLE) && !request.roles.includes(ADMIN_ROLE)) {
      await this.assertAnotherAdmin();
    }
    await this.revocations.revokeTokensBeforeChange(user.id, user.active, 'roles_changed');
    if (!(await this.users.setRoles(user.id, request.roles))) {
      throw notFound();
    }
    await this.revocations.revokeTokens(user.id, user.active, 'roles_changed');
    const nowRequiresMfa = request.roles.some((role) => known.get(role) === true);
    const sessionsEnded =
      nowRequiresMfa && !user.mfaRequired && !user.mfaEnrolled
        ? await this.tokens.revokeUserSessions(user.id, 'mfa_required')
        : 0;
    await this.audit.record({
      category: 'user',
      action: 'user.roles.set',
      outcome: 'success',
      actor: caller.actor,
      target: userTarget(user.id),
      details: { roles: [...request.roles].sort(), previous: user.roles, sessionsEnded },
    });

    return this.get(user.id);
  }

  /** Lifts a lockout and resets the failure counters. */
  async unlock(caller: UserCaller, id: string): Promise<UserView> {
    const user = await this.existing(id);
    await this.lockout.clear(user.id);
    await this.audit.record({
      category: 'user',
      action: 'user.unlock',
      outcome: 'success',
      actor: caller.actor,
      target: userTarget(user.id),
    });

    return this.get(user.id);
  }

  /** A deactivation whose change failed is lifted again (best effort: left in place, it only refuses more). */
  private async undoDeactivation(deactivating: boolean, userId: string): Promise<void> {
    if (deactivating) {
      await this.revocations.reactivate(userId).catch(() => undefined);
    }
  }

  async listRoles(): Promise<RoleListReply> {
    return { roles: (await this.users.listRoles()).map(toRoleView) };
  }

  private view(user: UserRecord): UserView {
    return toUserView(user, this.clock.now());
  }

  private async existing(id: string): Promise<UserRecord> {
    const user = await this.users.findById(id);
    if (!user) {
      throw notFound();
    }

    return user;
  }

  /** Role name → whether it requires MFA, after checking every name given is a role. */
  private async assertRolesExist(roles: string[]): Promise<Map<string, boolean>> {
    const known = new Map((await this.users.listRoles()).map((role) => [role.name, role.mfaRequired]));
    const unknown = roles.filter((role) => !known.has(role));
    if (unknown.length > 0) {
      throw new VivifiedError(ErrorCode.BadRequest, `unknown role: ${unknown.join(', ')}`, {
        reason: UNKNOWN_ROLE_REASON,
      });
    }

    return known;
  }

  private async assertAnotherAdmin(): Promise<void> {
    if ((await this.users.countActiveWithRole(ADMIN_ROLE)) <= 1) {
      throw lastAdmin();
    }
  }
}
