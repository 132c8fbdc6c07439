import { readFileSync } from 'node:fs';
import type { LookupAddress } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns';

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
import { encodeJson, readReply } from '@vivified/nats-transport';
import { NATS_CONNECTION, SERVICE_CONFIG } from '@vivified/service-kit';
import type { NatsConnection } from 'nats';
import { headers } from 'nats';
import { Agent, request } from 'undici';

import type { EventRouterConfig } from '../config';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from './webhook-signature';
import { WebhookSecretsService } from './webhook-secrets.service';

/** One delivery attempt. */
export interface DeliveryAttempt {
  target: PluginStatusEntry;
  envelope: StoredEventEnvelope;
  subscriptionId: string;
  attempt: number;
  traceparent: string;
}

type LookupCallback = (error: Error | null, address: string | LookupAddress[], family?: number) => void;

function fixedLookup(table: ReadonlyMap<string, string>) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    const address = table.get(hostname.toLowerCase());
    if (address === undefined) {
      dnsLookup(hostname, options as never, callback as never);

      return;
    }
    if (options.all === true) {
      callback(null, [{ address, family: 4 }]);
    } else {
      callback(null, address, 4);
    }
  };
}

/**
 * Sends one delivery: a NATS request to `vivified.v1.plugin.<id>.deliver` (the plugin's reply acks it; an error
 * reply fails it), or, for `delivery.mode: http`, a POST of the envelope to the webhook, signed with HMAC-SHA256
 * over `<timestamp>.<body>` (`Vivified-Signature: v1=<hex>`, `Vivified-Timestamp`), acked by a 2xx. Both carry
 * `traceparent` (the publisher's trace), `Vivified-Classification`, `Nats-Msg-Id`/`Vivified-Event-Id` = the event
 * id (for the subscriber's idempotence) and the attempt number.
 */
@Injectable()
export class Deliverer implements OnApplicationShutdown {
  private readonly agent: Agent;
  private readonly timeoutMs: number;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(SERVICE_CONFIG) config: EventRouterConfig,
    private readonly secrets: WebhookSecretsService,
  ) {
    this.timeoutMs = config.deliveryTimeoutMs;
    const table = new Map(
      (config.webhookResolve ?? '')
        .split(',')
        .filter((pair) => pair.includes('='))
        .map((pair) => pair.split('=') as [string, string])
        .map(([host, ip]) => [host.toLowerCase(), ip] as const),
    );
    this.agent = new Agent({
      connect: {
        ...(config.webhookCaFile ? { ca: readFileSync(config.webhookCaFile, 'utf8') } : {}),
        ...(table.size > 0 ? { lookup: fixedLookup(table) } : {}),
      },
      headersTimeout: config.deliveryTimeoutMs,
      bodyTimeout: config.deliveryTimeoutMs,
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.agent.close().catch(() => undefined);
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
    const reply = await this.nc.request(
      dynamicSubjects.pluginDeliver(attempt.target.id),
      encodeJson(attempt.envelope),
      {
        timeout: this.timeoutMs,
        headers: hdrs,
      },
    );
    // an error reply (headers or an error envelope) is a failed delivery; any other reply acks
    if (reply.headers?.get(headerNames.errorCode)) {
      readReply(reply.data, reply.headers);
    }
    if (reply.data.length > 0) {
      let body: unknown;
      try {
        body = JSON.parse(new TextDecoder().decode(reply.data));
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
    const response = await request(url, {
      method: 'POST',
      dispatcher: this.agent,
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
      maxRedirections: 0,
    } as never);
    await response.body.dump();
    if (response.statusCode < 200 || response.statusCode >= 300) {
      throw new VivifiedError(ErrorCode.Unavailable, `webhook answered ${response.statusCode}`, {
        reason: 'webhook_status',
      });
    }
  }
}
