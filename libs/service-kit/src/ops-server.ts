import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { ErrorCode } from '@vivified/contracts';

import type { ServiceMetrics } from './metrics';

/** The result of one readiness check. */
export interface CheckResult {
  /** Whether the dependency is usable. */
  ok: boolean;
  /** A short, secret-free explanation (`"disconnected"`, `"timed out after 2000 ms"`). */
  detail?: string;
}

/** A readiness check: resolves how a dependency is doing. A throw or a timeout counts as not ready. */
export type ReadinessCheck = () => Promise<CheckResult>;

/** The body of `GET /health` and `GET /health/ready`. */
export interface HealthReport {
  /** `ok` when every check passes. */
  status: 'ok' | 'unavailable';
  /** The service name. */
  service: string;
  /** Each check by name. */
  checks: Record<string, CheckResult>;
}

/** The subset of the logger the ops server uses. */
export interface OpsLogger {
  warn(obj: object, msg?: string): void;
}

/** Options of {@link OpsServer}. */
export interface OpsServerOptions {
  /** Service name, in health answers. */
  service: string;
  /** Address to bind. */
  host: string;
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** Metrics served on `/metrics`; `vivified_service_ready` follows the readiness checks. */
  metrics: ServiceMetrics;
  /** Where failing checks are reported. */
  logger?: OpsLogger;
  /** How long one check may take before it counts as not ready. @default 2000 */
  checkTimeoutMs?: number;
}

const MAX_DETAIL = 200;

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  extra: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...extra,
  });
  response.end(text);
}

/**
 * The ops HTTP server of a service (ARCHITECTURE §9): `GET /health` and `/health/ready` (200 when every
 * readiness check passes, 503 otherwise), `GET /health/live` (200 while the process runs) and `GET /metrics`
 * (Prometheus text; each scrape runs the checks too, so `vivified_service_ready` is current). Answers never
 * carry secrets: check details are short strings the checks choose, and a throwing check is reported by its
 * error name only (its message goes to the log).
 */
export class OpsServer {
  private readonly checks = new Map<string, ReadinessCheck>();
  private readonly server: Server;
  private readonly checkTimeoutMs: number;

  constructor(private readonly options: OpsServerOptions) {
    this.checkTimeoutMs = options.checkTimeoutMs ?? 2_000;
    this.server = createServer((request, response) => {
      this.handle(request, response).catch(() => {
        if (!response.headersSent) {
          sendJson(response, 500, { error: { code: ErrorCode.Internal, message: 'internal error' } });
        } else {
          response.destroy();
        }
      });
    });
    this.server.requestTimeout = 10_000;
    this.server.headersTimeout = 5_000;
  }

  /** Registers a readiness check under a name (`nats`, `postgres`, `streams`); a later one replaces it. */
  addCheck(name: string, check: ReadinessCheck): this {
    this.checks.set(name, check);

    return this;
  }

  /** Starts listening. */
  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** The bound address (after {@link OpsServer.listen}). */
  get address(): { host: string; port: number } {
    const address = this.server.address() as AddressInfo | null;
    if (!address) {
      throw new Error('ops server is not listening');
    }

    return { host: address.address, port: address.port };
  }

  /** Runs every check at once, each bounded by the timeout, and updates `vivified_service_ready`. */
  async readiness(): Promise<HealthReport> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]) => [name, await this.runCheck(name, check)] as const),
    );
    const ok = entries.every(([, result]) => result.ok);
    this.options.metrics.setReady(ok);

    return {
      status: ok ? 'ok' : 'unavailable',
      service: this.options.service,
      checks: Object.fromEntries(entries),
    };
  }

  /** Stops accepting requests and closes open connections. */
  async close(): Promise<void> {
    if (!this.server.listening) {
      return;
    }
    const closed = new Promise<void>((resolve, reject) =>
      this.server.close((error) => (error ? reject(error) : resolve())),
    );
    this.server.closeAllConnections();
    await closed;
  }

  private async runCheck(name: string, check: ReadinessCheck): Promise<CheckResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<CheckResult>((resolve) => {
      timer = setTimeout(
        () => resolve({ ok: false, detail: `timed out after ${this.checkTimeoutMs} ms` }),
        this.checkTimeoutMs,
      );
    });
    try {
      const result = await Promise.race([Promise.resolve().then(check), timeout]);

      return {
        ok: result.ok === true,
        ...(result.detail ? { detail: result.detail.slice(0, MAX_DETAIL) } : {}),
      };
    } catch (error) {
      this.options.logger?.warn({ check: name, err: error }, 'readiness check failed');

      return { ok: false, detail: `check threw ${error instanceof Error ? error.name : 'a non-error'}` };
    } finally {
      clearTimeout(timer);
    }
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://ops').pathname;
    const known = ['/health', '/health/ready', '/health/live', '/metrics'].includes(path);
    if (!known) {
      sendJson(response, 404, { error: { code: ErrorCode.NotFound, message: 'not found' } });

      return;
    }
    if (request.method !== 'GET') {
      sendJson(
        response,
        405,
        { error: { code: ErrorCode.BadRequest, message: 'method not allowed' } },
        { allow: 'GET' },
      );

      return;
    }
    if (path === '/health/live') {
      sendJson(response, 200, { status: 'ok', service: this.options.service });

      return;
    }
    const report = await this.readiness();
    if (path === '/metrics') {
      const text = await this.options.metrics.render();
      response.writeHead(200, {
        'content-type': this.options.metrics.contentType,
        'cache-control': 'no-store',
      });
      response.end(text);

      return;
    }
    sendJson(response, report.status === 'ok' ? 200 : 503, report);
  }
}

/** Creates an ops server with the given checks and starts it. */
export async function startOpsServer(
  options: OpsServerOptions,
  checks: Record<string, ReadinessCheck> = {},
): Promise<OpsServer> {
  const server = new OpsServer(options);
  for (const [name, check] of Object.entries(checks)) {
    server.addCheck(name, check);
  }
  await server.listen();

  return server;
}
