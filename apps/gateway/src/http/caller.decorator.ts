import type { ExecutionContext } from '@nestjs/common';
import { createParamDecorator } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import type { EdgeCaller } from '../core/core-api';

const BEARER = /^Bearer\s+(\S+)$/i;

/** Reads the caller's credentials and address from an HTTP request. */
export function callerOf(request: FastifyRequest): EdgeCaller {
  const authorization = request.headers.authorization;
  const bearer = typeof authorization === 'string' ? BEARER.exec(authorization)?.[1] : undefined;
  const apiKey = request.headers['x-api-key'];
  const userAgent = request.headers['user-agent'];

  return {
    ip: request.ip,
    ...(bearer ? { bearer } : {}),
    ...(typeof apiKey === 'string' && apiKey.length > 0 ? { apiKey } : {}),
    ...(typeof userAgent === 'string' ? { userAgent: userAgent.slice(0, 512) } : {}),
  };
}

/** The HTTP caller of a route (`@Caller() caller: EdgeCaller`). */
export const Caller = createParamDecorator(
  (_data: unknown, context: ExecutionContext): EdgeCaller =>
    callerOf(context.switchToHttp().getRequest<FastifyRequest>()),
);
