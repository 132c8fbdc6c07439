import { Body, Controller, Post, Req } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ProxyRequest, ProxyResponse } from '@vivified/contracts';
import type { FastifyRequest } from 'fastify';

import { callerOf, CoreApi, Endpoint } from '../lane-edge';
import { headersFromHttp } from '../lane-headers';
import { ProxyLaneService } from './proxy-lane.service';

/** The proxy lane for HTTP plugins: the same checks as `vivified.v1.proxy.request`. */
@ApiTags('lanes')
@Controller()
export class ProxyController {
  constructor(
    private readonly proxy: ProxyLaneService,
    private readonly core: CoreApi,
  ) {}

  @Post('v1/proxy')
  @Endpoint({
    summary:
      'Egress to one of the caller’s approved domains (external_service + admin approval), with SSRF defences.',
    body: ProxyRequest,
    reply: ProxyResponse,
    auth: true,
  })
  async request(@Body() body: unknown, @Req() request: FastifyRequest): Promise<ProxyResponse> {
    const token = await this.core.tokenOf(callerOf(request));
    const headers = headersFromHttp(token, request.headers);
    const { principal, request: value } = await this.proxy.authorize(headers, body);

    return this.proxy.request(principal, value, headers);
  }
}
