import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { ErrorCode, ProxyRequest, subjects, VivifiedError } from '@vivified/contracts';
import type { ProxyResponse } from '@vivified/contracts';
import { Handle, NatsRequestContext } from '@vivified/nats-transport';

import { ProxyLaneService } from './proxy-lane.service';

@Controller()
export class ProxyHandlers {
  constructor(private readonly proxy: ProxyLaneService) {}

  @Handle(subjects.proxy.request)
  request(@Payload() body: ProxyRequest, @Ctx() ctx: NatsRequestContext): Promise<ProxyResponse> {
    if (!ctx.principal) {
      throw new VivifiedError(ErrorCode.Unauthenticated, 'invalid token', { reason: 'token_missing' });
    }

    return this.proxy.request(ctx.principal, body, ctx.headers);
  }
}
