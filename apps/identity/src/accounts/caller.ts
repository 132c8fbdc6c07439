import type { AuditActor } from '@vivified/contracts';
import { ErrorCode, VivifiedError } from '@vivified/contracts';
import type { Principal } from '@vivified/nats-transport';

/** The signed-in user a handler acts for. */
export interface UserCaller {
  userId: string;
  actor: Pick<AuditActor, 'kind' | 'id'>;
}

/** The audit actor of a user id. */
export const userActor = (userId: string): Pick<AuditActor, 'kind' | 'id'> => ({
  kind: 'user',
  id: `user:${userId}`,
});

/** The audit target of a user id. */
export const userTarget = (userId: string): string => `user:${userId}`;

/** The user behind a guard-authenticated principal; anything else is `UNAUTHENTICATED`. */
export function userCaller(principal: Principal | undefined): UserCaller {
  if (principal?.kind !== 'user') {
    throw new VivifiedError(ErrorCode.Unauthenticated, 'a signed-in user is required', {
      reason: 'user_required',
    });
  }
  const userId = principal.id.startsWith('user:') ? principal.id.slice('user:'.length) : principal.id;

  return { userId, actor: userActor(userId) };
}
