import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { Catch, HttpException } from '@nestjs/common';
import { ErrorCode, loginRetryAfterSeconds, VivifiedError } from '@vivified/contracts';
import { toVivifiedError } from '@vivified/nats-transport';
import type { FastifyReply } from 'fastify';
import type { Observable } from 'rxjs';
import { throwError } from 'rxjs';

const httpCodes: Readonly<Record<number, ErrorCode>> = {
  400: ErrorCode.BadRequest,
  401: ErrorCode.Unauthenticated,
  403: ErrorCode.PolicyDenied,
  404: ErrorCode.NotFound,
  409: ErrorCode.Conflict,
  413: ErrorCode.PayloadTooLarge,
  429: ErrorCode.RateLimited,
  503: ErrorCode.Unavailable,
};

/** Turns anything a route threw into the platform's error envelope with its HTTP status. */
export function toHttpError(exception: unknown): VivifiedError {
  if (exception instanceof HttpException) {
    const status = exception.getStatus();

    return new VivifiedError(
      httpCodes[status] ?? ErrorCode.Internal,
      status === 404 ? 'not found' : exception.message,
    );
  }
  // fastify's own errors (body too large, bad JSON) carry a statusCode
  const status = (exception as { statusCode?: unknown } | undefined)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new VivifiedError(httpCodes[status] ?? ErrorCode.BadRequest, (exception as Error).message);
  }

  return toVivifiedError(exception);
}

/**
 * The gateway's one global filter: NATS handlers get their error back unchanged (the transport replies with it),
 * HTTP routes answer the error envelope of ARCHITECTURE §3 with the code's status. It covers the NATS handlers
 * too because `bootstrapService` registers it before it connects the transport (Nest gives each handler the
 * global filters there are when the handler is created), so no handler needs a filter of its own.
 */
@Catch()
export class EdgeExceptionFilter implements ExceptionFilter {
  constructor(private readonly onInternal: (error: unknown) => void = () => undefined) {}

  catch(exception: unknown, host: ArgumentsHost): Observable<never> | undefined {
    if (host.getType() !== 'http') {
      return throwError(() => exception);
    }
    const error = toHttpError(exception);
    if (error.code === ErrorCode.Internal) {
      this.onInternal(error.cause ?? exception);
    }
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const retryAfter = loginRetryAfterSeconds(error);
    if (retryAfter !== undefined) {
      void reply.header('retry-after', String(retryAfter));
    }
    void reply.status(error.status).type('application/json').send(error.toEnvelope());

    return undefined;
  }
}
