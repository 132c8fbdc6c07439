import { randomBytes } from 'node:crypto';

import { Injectable } from '@nestjs/common';
import type { WebhookSecretReply } from '@vivified/contracts';
import { ErrorCode, VivifiedError } from '@vivified/contracts';
import { EnvelopeCipher } from '@vivified/crypto';

import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from './webhook-signature';
import { WebhookSecretsRepository } from './webhook-secrets.repository';

const aadOf = (pluginId: string) => `event-router.webhook-secret.${pluginId}`;

/**
 * The HMAC secret of each HTTP plugin's webhook: created on first use, stored sealed with the platform's envelope
 * cipher (AES-256-GCM under the KEK), cached in memory while the process runs.
 */
@Injectable()
export class WebhookSecretsService {
  private readonly cache = new Map<string, string>();

  constructor(
    private readonly repository: WebhookSecretsRepository,
    private readonly cipher: EnvelopeCipher,
  ) {}

  /** The plugin's secret, created if it has none. */
  async secretFor(pluginId: string): Promise<string> {
    const cached = this.cache.get(pluginId);
    if (cached !== undefined) {
      return cached;
    }
    let sealed = await this.repository.get(pluginId);
    if (sealed === undefined) {
      const fresh = randomBytes(32).toString('base64url');
      sealed = await this.repository.insert(pluginId, await this.cipher.encrypt(fresh, aadOf(pluginId)));
    }
    const secret = await this.cipher.decryptString(sealed, aadOf(pluginId));
    this.cache.set(pluginId, secret);

    return secret;
  }

  /** The plugin's own secret and how deliveries are signed with it (asked for by the plugin itself). */
  async describe(pluginId: string): Promise<WebhookSecretReply> {
    if (pluginId.length === 0) {
      throw new VivifiedError(ErrorCode.PolicyDenied, 'access denied', { reason: 'plugin_only' });
    }

    return {
      secret: await this.secretFor(pluginId),
      algorithm: 'HMAC-SHA256',
      signatureHeader: SIGNATURE_HEADER,
      timestampHeader: TIMESTAMP_HEADER,
    };
  }

  /** Forgets a revoked plugin's secret. */
  async remove(pluginId: string): Promise<void> {
    this.cache.delete(pluginId);
    await this.repository.delete(pluginId);
  }
}
