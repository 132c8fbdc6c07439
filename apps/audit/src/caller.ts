import type { AuditActor } from '@vivified/contracts';
import { ErrorCode, VivifiedError } from '@vivified/contracts';
import type { Principal } from '@vivified/nats-transport';

/** The signed-in user behind a guard-authenticated principal, as an audit actor; anything else is refused. */
export function userActor(principal: Principal | undefined): Pick<AuditActor, 'kind' | 'id'> {
  if (principal?.kind !== 'user') {
    throw new VivifiedError(ErrorCode.Unauthenticated, 'a signed-in user is required', {
      reason: 'user_required',
    });
  }
  const id = principal.id.startsWith('user:') ? principal.id.slice('user:'.length) : principal.id;

  return { kind: 'user', id: `user:${id}` };
}
