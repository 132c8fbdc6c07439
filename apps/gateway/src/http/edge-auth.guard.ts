import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { BearerVerifier } from '@vivified/auth';
import { invalidToken } from '@vivified/auth';
import type { FastifyRequest } from 'fastify';

import { callerOf } from './caller.decorator';
import { verifyRequestBearer } from './request-bearer';

/** Route metadata: whether the route needs credentials (set by `@Endpoint` and `@PublicRoute`). */
export const ROUTE_AUTH = 'vivified:route-auth';

/** Route metadata: headers carrying another credential the route's service checks (`@Endpoint({ credentialHeaders })`). */
export const ROUTE_CREDENTIAL_HEADERS = 'vivified:route-credential-headers';

/**
 * Authenticates at the edge, before a request body is validated or a service is asked: a route that needs
 * credentials refuses a request without any, or with a bearer token that does not verify, with 401 at once — so
 * an anonymous caller learns nothing about a route's body schema and costs no service a round trip. An API key
 * passes through (identity exchanges it, and refuses an unknown one with 401), and so does a credential header a
 * route names (a one-time registration token, which the registry checks). The services still check every
 * request themselves; this is the first of two gates, not the only one. Routes without the metadata need
 * credentials (deny by default); only HTTP requests are checked.
 */
@Injectable()
export class EdgeAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: BearerVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') {
      return true;
    }
    const auth = this.reflector.getAllAndOverride<boolean | undefined>(ROUTE_AUTH, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (auth === false) {
      return true;
    }
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const caller = callerOf(request);
    if (caller.bearer) {
      await verifyRequestBearer(request, caller.bearer, this.verifier);

      return true;
    }
    const headers = this.reflector.get<string[] | undefined>(ROUTE_CREDENTIAL_HEADERS, context.getHandler());
    if (caller.apiKey || headers?.some((name) => typeof request.headers[name] === 'string')) {
      return true;
    }
    throw invalidToken('token_missing');
  }
}
