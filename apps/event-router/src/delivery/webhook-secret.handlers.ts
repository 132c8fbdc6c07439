import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { subjects, WebhookSecretRequest } from '@vivified/contracts';
import type { WebhookSecretReply } from '@vivified/contracts';
import { Handle, NatsRequestContext } from '@vivified/nats-transport';

import { WebhookSecretsService } from './webhook-secrets.service';

@Controller()
export class WebhookSecretHandlers {
  constructor(private readonly secrets: WebhookSecretsService) {}

  @Handle(subjects.events.webhookSecret)
  get(@Payload() _body: WebhookSecretRequest, @Ctx() ctx: NatsRequestContext): Promise<WebhookSecretReply> {
    return this.secrets.describe(ctx.principal?.id ?? '');
  }
}
