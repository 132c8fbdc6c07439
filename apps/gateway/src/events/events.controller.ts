import { Body, Controller, Get, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  dynamicSubjects,
  ErrorCode,
  EventEnvelope,
  EventPublishReply,
  EventTypeListReply,
  subjects,
  SubscriptionListReply,
  SubjectTokenError,
  VivifiedError,
  WebhookSecretReply,
} from '@vivified/contracts';
import { VivifiedClient } from '@vivified/nats-transport';
import { NATS_CONNECTION } from '@vivified/service-kit';
import type { NatsConnection } from 'nats';

import type { EdgeCaller } from '../core/core-api';
import { CoreApi } from '../core/core-api';
import { Caller } from '../http/caller.decorator';
import { Endpoint } from '../http/endpoint.decorator';

/** How long an HTTP publish waits for the event to be stored. */
const PUBLISH_TIMEOUT_MS = 5_000;

/** The canonical lane for HTTP plugins (ARCHITECTURE §3, §7), onto the event-router. */
@ApiTags('events')
@Controller()
export class EventsController {
  private readonly client: VivifiedClient;

  constructor(
    private readonly core: CoreApi,
    @Inject(NATS_CONNECTION) nc: NatsConnection,
  ) {
    // without a token provider: the caller's own token is forwarded, never the gateway's
    this.client = new VivifiedClient(nc);
  }

  @Post('v1/events/:eventType')
  @Endpoint({
    summary:
      'Publishes a canonical event (the body is the envelope; the plugin must declare the type). Answers ' +
      '{eventId, seq} once the event is stored; a retry with the same eventId is stored once.',
    body: EventEnvelope,
    reply: EventPublishReply,
    auth: true,
  })
  async publish(@Param('eventType') eventType: string, @Body() body: unknown, @Caller() caller: EdgeCaller) {
    let subject: string;
    try {
      subject = dynamicSubjects.publishEvent(eventType);
    } catch (error) {
      if (error instanceof SubjectTokenError) {
        throw new VivifiedError(ErrorCode.BadRequest, 'invalid event type', {
          reason: 'invalid_event_type',
          details: [{ path: 'eventType', messages: [error.message] }],
        });
      }
      throw error;
    }
    const token = await this.core.tokenOf(caller);

    return this.client.requestRaw(subject, body ?? {}, {
      timeoutMs: PUBLISH_TIMEOUT_MS,
      ...(token ? { token } : {}),
    }) as Promise<EventPublishReply>;
  }

  @Get('v1/events/types')
  @ApiQuery({ name: 'type', required: false, type: String })
  @Endpoint({
    summary:
      'The schema registry: canonical and registered event types, every version, the active one per major.',
    reply: EventTypeListReply,
    auth: true,
  })
  types(@Query('type') type: string | undefined, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.events.types, type === undefined ? {} : { type }, caller);
  }

  @Get('v1/events/webhook-secret')
  @Endpoint({
    summary:
      "The calling HTTP plugin's webhook secret: deliveries carry Vivified-Signature: v1=<hex HMAC-SHA256 over " +
      '"<Vivified-Timestamp>.<raw body>">.',
    reply: WebhookSecretReply,
    auth: true,
  })
  webhookSecret(@Caller() caller: EdgeCaller) {
    return this.core.call(subjects.events.webhookSecret, {}, caller);
  }

  @Get('v1/events/subscriptions')
  @Endpoint({
    summary: "The calling plugin's subscriptions with their state and pending count.",
    reply: SubscriptionListReply,
    auth: true,
  })
  subscriptions(@Caller() caller: EdgeCaller) {
    return this.core.call(subjects.events.subscriptions, {}, caller);
  }
}
