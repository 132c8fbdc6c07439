import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationShutdown } from '@nestjs/common';
import type { PluginStatusEntry, StoredEventEnvelope } from '@vivified/contracts';
import {
  dynamicSubjects,
  ErrorCode,
  formatClassification,
  headers as headerNames,
  isErrorEnvelope,
  VivifiedError,
} from '@vivified/contracts';
import { decodeJson, encodeJson, readReply, RequestMux } from '@vivified/nats-transport';
import type { AuditEmitter, ServiceLogger } from '@vivified/service-kit';
import { AUDIT_EMITTER, NATS_CONNECTION, SERVICE_CONFIG, SERVICE_LOGGER } from '@vivified/service-kit';
import type { NatsConnection } from 'nats';
import { headers } from 'nats';

import type { EventRouterConfig } from '../config';
import { isAddressRefusal, WebhookEgress } from './webhook-egress';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from './webhook-signature';
import { WebhookSecretsService } from './webhook-secrets.service';

/** One delivery attempt. */
export interface DeliveryAttempt {
  target: PluginStatusEntry;
  envelope: StoredEventEnvelope;
  subscriptionId: string;
  attempt: number;
  traceparent: string;
  /** The stored message's bytes when `envelope` is exactly what was stored (not sanitized): sent as they are. */
  stored?: Uint8Array;
}

/**
 * Sends one delivery: a NATS request to `vivified.v1.plugin.<id>.deliver` (the plugin's reply acks it; an error
 * reply fails it), or, for `delivery.mode: http`, a POST of the envelope to the webhook, signed with HMAC-SHA256
 * over `<timestamp>.<body>` (`Vivified-Signature: v1=<hex>`, `Vivified-Timestamp`), acked by a 2xx. Both carry
 * `traceparent` (the publisher's trace), `Vivified-Classification`, `Nats-Msg-Id`/`Vivified-Event-Id` = the event
 * id (for the subscriber's idempotence) and the attempt number. Webhooks go through {@link WebhookEgress}: an
 * address the egress policy refuses fails the delivery (`POLICY_DENIED`, reason `webhook_address_<range>`) like any
 * failure (retried, dead-lettered, counted for quarantine) and is audited (`event.deliver`, outcome `denied`).
 */
@Injectable()
export class Deliverer implements OnApplicationShutdown {
  private readonly webhooks: WebhookEgress;
  private readonly timeoutMs: number;
  private readonly requests: RequestMux;

  constructor(
    @Inject(NATS_CONNECTION) nc: NatsConnection,
    @Inject(SERVICE_CONFIG) config: EventRouterConfig,
    private readonly secrets: WebhookSecretsService,
    @Inject(AUDIT_EMITTER) private readonly audit: AuditEmitter,
    @Inject(SERVICE_LOGGER) private readonly log: ServiceLogger,
  ) {
    this.timeoutMs = config.deliveryTimeoutMs;
    this.requests = RequestMux.of(nc);
    this.webhooks = new WebhookEgress(config);
    if (config.egressTestAllowRanges) {
      log.warn({ ranges: config.egressTestAllowRanges }, 'webhooks: TEST allowance of private ranges is on');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.webhooks.close();
  }

  async deliver(attempt: DeliveryAttempt): Promise<void> {
    const delivery = attempt.target.delivery;
    if (delivery?.mode === 'http') {
      if (!delivery.webhookUrl) {
        throw new VivifiedError(ErrorCode.BadRequest, 'http delivery without a webhook');
      }
      await this.post(delivery.webhookUrl, attempt);

      return;
    }
    const hdrs = headers();
    hdrs.set('traceparent', attempt.traceparent);
    hdrs.set('Nats-Msg-Id', attempt.envelope.eventId);
    hdrs.set('Vivified-Delivery-Attempt', String(attempt.attempt));
    hdrs.set('Vivified-Subscription', attempt.subscriptionId);
    if (attempt.envelope.classification.length > 0) {
      hdrs.set(headerNames.classification, formatClassification(attempt.envelope.classification));
    }
    const reply = await this.requests.request(
      dynamicSubjects.pluginDeliver(attempt.target.id),
      attempt.stored ?? encodeJson(attempt.envelope),
      { timeoutMs: this.timeoutMs, headers: hdrs },
    );
    // an error reply (headers or an error envelope) is a failed delivery; any other reply acks
    if (reply.headers?.get(headerNames.errorCode)) {
      readReply(reply.data, reply.headers);
    }
    if (reply.data.length > 0) {
      let body: unknown;
      try {
        body = decodeJson(reply.data);
      } catch {
        body = undefined;
      }
      if (isErrorEnvelope(body)) {
        throw VivifiedError.fromEnvelope(body);
      }
    }
  }

  private async post(url: string, attempt: DeliveryAttempt): Promise<void> {
    const body = JSON.stringify(attempt.envelope);
    const timestamp = Math.floor(Date.now() / 1000);
    const secret = await this.secrets.secretFor(attempt.target.id);
    try {
      await this.webhooks.post(
        {
          url,
          body,
          headers: {
            'content-type': 'application/json',
            [SIGNATURE_HEADER]: signWebhook(secret, timestamp, body),
            [TIMESTAMP_HEADER]: String(timestamp),
            'Vivified-Event-Id': attempt.envelope.eventId,
            'Vivified-Delivery-Attempt': String(attempt.attempt),
            'Vivified-Subscription': attempt.subscriptionId,
            traceparent: attempt.traceparent,
            ...(attempt.envelope.classification.length > 0
              ? { [headerNames.classification]: formatClassification(attempt.envelope.classification) }
              : {}),
          },
        },
        this.timeoutMs,
      );
    } catch (error) {
      if (isAddressRefusal(error)) {
        await this.auditRefusal(attempt, error.reason ?? 'webhook_address_refused');
      }
      throw error;
    }
  }

  /** A webhook refused for its address: audited on every attempt (the webhook host is not in the record). */
  private async auditRefusal(attempt: DeliveryAttempt, reason: string): Promise<void> {
    const { envelope, target } = attempt;
    this.log.warn({ pluginId: target.id, reason }, 'webhook address refused by the egress policy');
    await this.audit
      .emit({
        category: 'event',
        action: 'event.deliver',
        outcome: 'denied',
        actor: { kind: 'service', id: 'service:event-router' },
        pluginId: target.id,
        target: `plugin:${target.id}`,
        classification: envelope.classification,
        details: {
          eventId: envelope.eventId,
          eventType: envelope.eventType,
          subscriptionId: attempt.subscriptionId,
          sourcePluginId: envelope.source.pluginId,
          attempt: attempt.attempt,
          reason,
        },
      })
      .catch((error: unknown) => this.log.error({ err: error }, 'webhook refusal audit failed'));
  }
}
