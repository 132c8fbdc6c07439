import { Controller } from '@nestjs/common';
import { EventTypeListRequest, EventTypeRegisterRequest, subjects } from '@vivified/contracts';
import { Payload } from '@nestjs/microservices';
import { Handle } from '@vivified/nats-transport';

import { SchemaRegistryService } from './schema-registry.service';

@Controller()
export class EventTypesHandlers {
  constructor(private readonly registry: SchemaRegistryService) {}

  @Handle(subjects.events.types)
  list(@Payload() request: EventTypeListRequest) {
    return this.registry.list(request);
  }

  @Handle(subjects.events.registerType)
  register(@Payload() request: EventTypeRegisterRequest) {
    return this.registry.register(request);
  }
}
