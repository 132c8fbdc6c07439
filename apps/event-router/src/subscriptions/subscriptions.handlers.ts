import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import {
  DeadLetterReplayRequest,
  EventSubscriptionRequest,
  subjects,
  SubscriptionListRequest,
  SubscriptionResumeRequest,
} from '@vivified/contracts';
import { Handle, NatsRequestContext } from '@vivified/nats-transport';

import { SubscriptionsService } from './subscriptions.service';

function principalOf(ctx: NatsRequestContext) {
  if (!ctx.principal) {
    throw new Error('handler reached without a principal');
  }

  return ctx.principal;
}

@Controller()
export class SubscriptionsHandlers {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Handle(subjects.events.subscribe)
  subscribe(@Payload() body: EventSubscriptionRequest, @Ctx() ctx: NatsRequestContext) {
    return this.subscriptions.subscribe(principalOf(ctx), body.eventTypes);
  }

  @Handle(subjects.events.unsubscribe)
  unsubscribe(@Payload() body: EventSubscriptionRequest, @Ctx() ctx: NatsRequestContext) {
    return this.subscriptions.unsubscribe(principalOf(ctx), body.eventTypes);
  }

  @Handle(subjects.events.subscriptions)
  list(@Payload() _body: SubscriptionListRequest, @Ctx() ctx: NatsRequestContext) {
    return this.subscriptions.listOwn(principalOf(ctx));
  }

  @Handle(subjects.events.subscriptionResume)
  resume(@Payload() body: SubscriptionResumeRequest, @Ctx() ctx: NatsRequestContext) {
    return this.subscriptions.resume(body.subscriptionId, principalOf(ctx));
  }

  @Handle(subjects.events.deadLetterReplay)
  replay(@Payload() body: DeadLetterReplayRequest, @Ctx() ctx: NatsRequestContext) {
    return this.subscriptions.replay(body, principalOf(ctx));
  }
}
