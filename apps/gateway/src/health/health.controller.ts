import { Controller, Get, Res } from '@nestjs/common';
import { OpsServer } from '@vivified/service-kit';
import type { FastifyReply } from 'fastify';

import { PublicRoute } from '../http/endpoint.decorator';

/** `GET /health` on the API port too, so a load balancer in front of the gateway can check it. */
@PublicRoute()
@Controller()
export class HealthController {
  constructor(private readonly ops: OpsServer) {}

  @Get('health')
  async health(@Res() reply: FastifyReply): Promise<void> {
    const report = await this.ops.readiness();
    await reply.status(report.status === 'ok' ? 200 : 503).send(report);
  }
}
