import { Module } from '@nestjs/common';

import { DeadLetters } from './delivery/dead-letters';
import { Deliverer } from './delivery/deliverer';
import { DeliveryPolicy } from './delivery/delivery-policy';
import { WebhookSecretHandlers } from './delivery/webhook-secret.handlers';
import { WebhookSecretsRepository } from './delivery/webhook-secrets.repository';
import { WebhookSecretsService } from './delivery/webhook-secrets.service';
import { EventMetrics } from './event-metrics';
import { InfoHandlers } from './info/info.handlers';
import { PluginDirectory } from './plugins/plugin-directory';
import { EventStore } from './publish/event-store';
import { PublishListener } from './publish/publish.listener';
import { PublishService } from './publish/publish.service';
import { EventTypesHandlers } from './schemas/event-types.handlers';
import { EventTypesKv } from './schemas/event-types.kv';
import { EventTypesRepository } from './schemas/event-types.repository';
import { SchemaRegistryService } from './schemas/schema-registry.service';
import { JetStreamConsumers } from './subscriptions/jetstream-consumers';
import { SubscriptionsHandlers } from './subscriptions/subscriptions.handlers';
import { SubscriptionsRepository } from './subscriptions/subscriptions.repository';
import { SubscriptionsService } from './subscriptions/subscriptions.service';

@Module({
  controllers: [InfoHandlers, EventTypesHandlers, SubscriptionsHandlers, WebhookSecretHandlers],
  providers: [
    EventMetrics,
    PluginDirectory,
    EventTypesRepository,
    EventTypesKv,
    SchemaRegistryService,
    EventStore,
    PublishService,
    PublishListener,
    DeliveryPolicy,
    WebhookSecretsRepository,
    WebhookSecretsService,
    Deliverer,
    DeadLetters,
    JetStreamConsumers,
    SubscriptionsRepository,
    SubscriptionsService,
  ],
})
export class EventRouterModule {}
