import type { LoggerService } from '@nestjs/common';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import type { Bindings, ChildLoggerOptions, DestinationStream, Level, LevelWithSilent, Logger } from 'pino';
import { pino, stdSerializers, stdTimeFunctions } from 'pino';

import { MASK, maskSensitive, redactedKeyNames } from './sensitive-data';

/** The JSON logger services write to (pino). */
export type ServiceLogger = Logger;

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Service name, on every line as `service`. */
  service: string;
  /** Minimum level. @default 'info' */
  level?: LevelWithSilent;
  /** Where lines go. @default stdout (synchronous, so nothing is lost on exit) */
  destination?: DestinationStream;
}

function redactPath(prefix: string, key: string): string {
  const own = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
  if (prefix === '') {
    return own;
  }

  return own.startsWith('[') ? `${prefix}${own}` : `${prefix}.${own}`;
}

/** Header names that carry credentials. */
const credentialHeaders = ['authorization', 'cookie', 'set-cookie', 'x-api-key', 'proxy-authorization'];

/**
 * The pino `redact` paths: every listed key at the top level, and credential headers where pino-http and
 * our own code put them. Wildcard paths (`*.password`) cost about 15 µs per level per line in pino's
 * redactor, so keys deeper in the logged object are masked by the log formatter instead (about 1.5 µs).
 */
export const redactPaths: readonly string[] = [
  ...redactedKeyNames.map((key) => redactPath('', key)),
  ...['req.headers', 'res.headers', 'headers', 'request.headers', 'response.headers'].flatMap((prefix) =>
    credentialHeaders.map((header) => redactPath(prefix, header)),
  ),
];

/** The ids of the active OpenTelemetry span, for correlating log lines with traces. */
function traceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan();
  if (!span) {
    return {};
  }
  const spanContext = span.spanContext();

  return isSpanContextValid(spanContext)
    ? { trace_id: spanContext.traceId, span_id: spanContext.spanId }
    : {};
}

/**
 * Creates the service's JSON logger: `service` and `pid` on every line, ISO time, string levels,
 * `trace_id`/`span_id` of the active span, and secrets and PHI masked twice over — pino `redact` paths for
 * known top-level keys and for credential headers in serializer output (pino-http's `req`/`res`), and a log
 * formatter plus a `child` wrapper that mask any secret- or PHI-shaped key at any depth, in any spelling, in
 * logged objects and child bindings. Free text (the message, an error's message) is not scanned.
 */
export function createLogger(options: CreateLoggerOptions): ServiceLogger {
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service, pid: process.pid },
      timestamp: stdTimeFunctions.isoTime,
      mixin: traceFields,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => maskSensitive(object),
      },
      serializers: { err: stdSerializers.err, error: stdSerializers.err },
      redact: { paths: [...redactPaths], censor: MASK },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
  // pino skips the bindings formatter for children; every child inherits this override through its prototype.
  const proto = Object.getPrototypeOf(logger) as Logger;
  logger.child = function maskedChild<L extends string = never>(
    this: Logger,
    bindings: Bindings,
    childOptions?: ChildLoggerOptions<L>,
  ) {
    return proto.child.call<Logger, [Bindings, ChildLoggerOptions<L>?], Logger<L>>(
      this,
      maskSensitive(bindings),
      childOptions,
    );
  };

  return logger;
}

function isStack(value: unknown): value is string {
  return typeof value === 'string' && /\n\s+at /.test(value);
}

/**
 * Nest's `LoggerService` over the service logger, so Nest's own lines are JSON too:
 * `NestFactory.create(AppModule, { logger: new NestLoggerAdapter(logger) })`. The trailing string argument Nest
 * passes is the context (the class name); an error's stack argument becomes `err.stack`.
 */
export class NestLoggerAdapter implements LoggerService {
  constructor(private readonly logger: ServiceLogger) {}

  log(message: unknown, ...optionalParams: unknown[]): void {
    this.write('info', message, optionalParams);
  }

  error(message: unknown, ...optionalParams: unknown[]): void {
    this.write('error', message, optionalParams);
  }

  warn(message: unknown, ...optionalParams: unknown[]): void {
    this.write('warn', message, optionalParams);
  }

  debug(message: unknown, ...optionalParams: unknown[]): void {
    this.write('debug', message, optionalParams);
  }

  verbose(message: unknown, ...optionalParams: unknown[]): void {
    this.write('trace', message, optionalParams);
  }

  fatal(message: unknown, ...optionalParams: unknown[]): void {
    this.write('fatal', message, optionalParams);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    const rest = [...params];
    const context =
      rest.length > 0 && typeof rest.at(-1) === 'string' && !isStack(rest.at(-1)) ? rest.pop() : undefined;
    const stack = rest.find(isStack);
    const fields: Record<string, unknown> = context === undefined ? {} : { context };
    if (message instanceof Error) {
      this.logger[level]({ ...fields, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.logger[level]({ ...fields, ...(message as Record<string, unknown>) });
    } else if (stack !== undefined) {
      this.logger[level](
        { ...fields, err: { type: 'Error', message: String(message), stack } },
        String(message),
      );
    } else {
      this.logger[level](fields, String(message));
    }
  }
}
