import { Body, Controller, Param, Post, Req } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { decodeJson } from '@vivified/nats-transport';
import type { FastifyRequest } from 'fastify';

import { callerOf, CoreApi, Endpoint } from '../lane-edge';
import { headersFromHttp } from '../lane-headers';
import { OperatorLaneService } from './operator-lane.service';

/** The operator lane for HTTP plugins: the same checks and forwarding as `vivified.v1.rpc.<target>.<operation>`. */
@ApiTags('lanes')
@Controller()
export class OperatorLaneController {
  constructor(
    private readonly lane: OperatorLaneService,
    private readonly core: CoreApi,
  ) {}

  @Post('v1/rpc/:target/:operation')
  @Endpoint({
    summary:
      'Calls an operation of another plugin (operator allowlist, traits and classification checked; the target ' +
      'gets a call token, never the caller’s). 503 CIRCUIT_OPEN while the target’s breaker is open.',
    auth: true,
  })
  async call(
    @Param('target') target: string,
    @Param('operation') operation: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
  ): Promise<unknown> {
    const token = await this.core.tokenOf(callerOf(request));
    const result = await this.lane.call({
      target,
      operation,
      headers: headersFromHttp(token, request.headers),
      payload: body ?? {},
    });

    return 'raw' in result ? decodeJson(result.raw) : result.value;
  }
}
