import { applyDecorators, HttpCode, SetMetadata } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiSecurity } from '@nestjs/swagger';

import { ROUTE_AUTH, ROUTE_CREDENTIAL_HEADERS } from './edge-auth.guard';
import { LOGIN_RATE_LIMIT } from './http-setup';

/** What one HTTP route is, for OpenAPI and the edge's limits. */
export interface EndpointOptions {
  /** One line for the API reference. */
  summary: string;
  /** Class of the request body (a contract DTO from libs/contracts). */
  body?: abstract new () => object;
  /** Class of the success body. */
  reply?: abstract new () => object;
  /** Success status. @default 200 */
  status?: number;
  /** Whether the route needs credentials (bearer JWT or API key). */
  auth: boolean;
  /** Headers carrying another credential the service behind the route checks (passed by the edge's auth guard). */
  credentialHeaders?: string[];
  /** Counted against the stricter login limit per address. @default false */
  login?: boolean;
}

const ref = (type: abstract new () => object) => ({ $ref: `#/components/schemas/${type.name}` });

/** Marks a controller or route outside `@Endpoint` (OpenAPI document, health) as served without credentials. */
export const PublicRoute = (): MethodDecorator & ClassDecorator => SetMetadata(ROUTE_AUTH, false);

/** One decorator per route: OpenAPI operation, body and reply schemas, auth, status, rate-limit class. */
export function Endpoint(options: EndpointOptions): MethodDecorator {
  const status = options.status ?? 200;
  const decorators = [
    ApiOperation({ summary: options.summary }),
    SetMetadata(ROUTE_AUTH, options.auth),
    SetMetadata(ROUTE_CREDENTIAL_HEADERS, options.credentialHeaders ?? []),
    HttpCode(status),
    ApiResponse({
      status,
      description: 'success',
      ...(options.reply ? { schema: ref(options.reply) } : {}),
    }),
    ApiResponse({
      status: 400,
      description: 'invalid request',
      schema: { $ref: '#/components/schemas/ErrorEnvelope' },
    }),
    ApiResponse({
      status: 429,
      description: 'rate limited',
      schema: { $ref: '#/components/schemas/ErrorEnvelope' },
    }),
  ];
  if (options.body) {
    decorators.push(ApiBody({ schema: ref(options.body) }));
  }
  if (options.auth) {
    decorators.push(
      ApiBearerAuth(),
      ApiSecurity('apiKey'),
      ApiResponse({
        status: 401,
        description: 'not authenticated',
        schema: { $ref: '#/components/schemas/ErrorEnvelope' },
      }),
      ApiResponse({
        status: 403,
        description: 'denied by policy',
        schema: { $ref: '#/components/schemas/ErrorEnvelope' },
      }),
    );
  }
  if (options.login) {
    decorators.push(RouteConfig({ rateLimitClass: LOGIN_RATE_LIMIT }));
  }

  return applyDecorators(...decorators);
}
