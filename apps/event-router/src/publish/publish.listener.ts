import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Classification } from '@vivified/contracts';
import {
  classifications,
  ErrorCode,
  eventPublishAccess,
  headers as headerNames,
  parseClassification,
  subjects,
  VivifiedError,
} from '@vivified/contracts';
import { decodeJson, encodeJson, errorReply, toVivifiedError } from '@vivified/nats-transport';
import { PolicySidecar } from '@vivified/policy-sidecar';
import { NATS_CONNECTION, SERVICE_LOGGER } from '@vivified/service-kit';
import type { ServiceLogger } from '@vivified/service-kit';
import type { Msg, NatsConnection, Subscription } from 'nats';

import { EventMetrics } from '../event-metrics';
import { traceIdOfTraceparent } from '@vivified/nats-transport';
import { PublishService } from './publish.service';

/** `vivified.v1.events.publish.` — the publish subjects without the type. */
const PUBLISH_PREFIX = subjects.events.publishAll.slice(0, -1);

/** The queue group of the event-router's replicas. */
const QUEUE = 'event-router';

function declaredClassification(body: unknown): Classification[] {
  const list =
    typeof body === 'object' && body !== null ? (body as { classification?: unknown }).classification : [];

  return Array.isArray(list)
    ? list.filter((item): item is Classification => (classifications as readonly unknown[]).includes(item))
    : [];
}

/**
 * Serves the wildcard publish subject `vivified.v1.events.publish.>` in the service's queue group. The transport's
 * `@Handle` serves one contract per concrete subject, so this listener authorizes each request with the policy
 * sidecar itself (token, live status, `events.publish` with the type's classification, source = the caller) before
 * the publish service runs.
 */
@Injectable()
export class PublishListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private subscription: Subscription | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly sidecar: PolicySidecar,
    private readonly publisher: PublishService,
    private readonly metrics: EventMetrics,
    @Inject(SERVICE_LOGGER) private readonly log: ServiceLogger,
  ) {
    // the publisher is the source of its event: the engine binds source to the caller and checks its traits
    sidecar.enrich('events.publish', (input, context) =>
      context.principal.kind === 'plugin'
        ? {
            ...input,
            source: {
              pluginId: context.principal.id,
              traits: this.publisher.pluginEntry(context.principal.id)?.traits ?? [],
            },
          }
        : input,
    );
  }

  onApplicationBootstrap(): void {
    this.subscription = this.nc.subscribe(subjects.events.publishAll, {
      queue: QUEUE,
      callback: (error, msg) => {
        if (error) {
          this.log.error({ err: error }, 'publish subscription error');

          return;
        }
        const work = this.handle(msg);
        this.inFlight.add(work);
        void work.finally(() => this.inFlight.delete(work));
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.subscription && !this.nc.isClosed()) {
      await this.subscription.drain().catch(() => undefined);
    }
    await Promise.allSettled([...this.inFlight]);
  }

  private async handle(msg: Msg): Promise<void> {
    const started = performance.now();
    try {
      const eventType = msg.subject.slice(PUBLISH_PREFIX.length);
      let body: unknown;
      let declared: Classification[];
      try {
        body = decodeJson(msg.data);
        declared = parseClassification(msg.headers?.get(headerNames.classification));
      } catch (error) {
        throw new VivifiedError(ErrorCode.BadRequest, 'the request is not a JSON envelope', { cause: error });
      }
      const schema = this.publisher.schemaFor(eventType, body);
      const classification = [
        ...new Set<Classification>([...(schema?.classification ?? []), ...declaredClassification(body)]),
      ];
      const { principal } = await this.sidecar.authorize({
        subject: msg.subject,
        headers: msg.headers,
        access: eventPublishAccess(classification),
        classification: declared,
        payload: body,
      });
      const reply = await this.publisher.publish({
        principal,
        eventType,
        body,
        traceId: traceIdOfTraceparent(msg.headers?.get('traceparent')),
      });
      if (msg.reply) {
        msg.respond(encodeJson(reply));
      }
    } catch (error) {
      const failure = toVivifiedError(error);
      if (failure.code === ErrorCode.Internal) {
        this.log.error({ err: failure.cause ?? failure, subject: msg.subject }, 'publish failed');
      }
      if (msg.reply) {
        const { headers, data } = errorReply(failure);
        msg.respond(data, { headers });
      }
    } finally {
      this.metrics.publishLatency.observe((performance.now() - started) / 1000);
    }
  }
}
