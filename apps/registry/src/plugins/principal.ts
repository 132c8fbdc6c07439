import { ErrorCode, VivifiedError } from '@vivified/contracts';
import type { NatsRequestContext, Principal } from '@vivified/nats-transport';

/** The authenticated caller of a non-public handler (the guard always sets it; this only narrows the type). */
export function principalOf(ctx: NatsRequestContext): Principal {
  if (!ctx.principal) {
    throw new VivifiedError(ErrorCode.Unauthenticated, 'authentication required', { reason: 'no_principal' });
  }

  return ctx.principal;
}
