import { Inject, Injectable } from '@nestjs/common';
import type { AccessToken, ServiceName } from '@vivified/contracts';
import { ErrorCode, tokenContract, VivifiedError } from '@vivified/contracts';
import { constantTimeEqual } from '@vivified/crypto';
import type { AuditEmitter, BaseConfig } from '@vivified/service-kit';
import { AUDIT_EMITTER, SERVICE_CONFIG } from '@vivified/service-kit';

import { TokenSigner } from './token-signer.service';

/** The trait every core service token carries. */
export const SYSTEM_CORE_TRAIT = 'system_core';

/** Service tokens for the core services, bought with the shared `VIVIFIED_SERVICE_SECRET` (ADR-0005). */
@Injectable()
export class ServiceTokensService {
  constructor(
    private readonly signer: TokenSigner,
    @Inject(SERVICE_CONFIG) private readonly config: BaseConfig,
    @Inject(AUDIT_EMITTER) private readonly audit: AuditEmitter,
  ) {}

  async token(service: ServiceName, secret: string): Promise<AccessToken> {
    const expected = this.config.serviceSecret;
    // without a configured secret no service token exists; the answer is the same as for a wrong secret
    const valid = constantTimeEqual(secret, expected ?? '') && expected !== undefined;
    const actor = { kind: 'service' as const, id: `service:${service}` };
    if (!valid) {
      await this.audit.emit({
        category: 'auth',
        action: 'token.service',
        outcome: 'denied',
        actor,
        details: { reason: expected === undefined ? 'service_tokens_disabled' : 'invalid_credentials' },
      });
      throw new VivifiedError(ErrorCode.Unauthenticated, 'invalid credentials', {
        reason: 'invalid_credentials',
      });
    }
    const { token, expiresIn } = await this.signer.sign({
      sub: `service:${service}`,
      typ: 'service',
      traits: [SYSTEM_CORE_TRAIT],
      lifetime: tokenContract.lifetimes.service,
    });
    await this.audit.emit({ category: 'auth', action: 'token.service', outcome: 'success', actor });

    return { accessToken: token, expiresIn, tokenType: 'Bearer' };
  }
}
