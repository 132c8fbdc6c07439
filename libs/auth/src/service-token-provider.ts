import type { ServiceName } from '@vivified/contracts';
import { AccessToken, parsePayload, subjects } from '@vivified/contracts';
import type { TransportLogger } from '@vivified/nats-transport';
import { silentLogger } from '@vivified/nats-transport';

/** The one call a {@link ServiceTokenProvider} makes (a `VivifiedClient` without a token provider of its own). */
export interface TokenRequester {
  requestRaw(subject: string, body: unknown, options?: { timeoutMs?: number }): Promise<unknown>;
}

/** Options of a {@link ServiceTokenProvider}. */
export interface ServiceTokenProviderOptions {
  /**
   * Sends the exchange request. It must not itself ask this provider for a token (give it a client of its own):
   * the exchange is public and goes without one.
   */
  client: TokenRequester;
  /** The service the token is for. */
  service: ServiceName;
  /** `VIVIFIED_SERVICE_SECRET`. */
  secret: string;
  logger?: TransportLogger;
  /** The clock, in epoch milliseconds (tests). */
  now?: () => number;
  /**
   * Share of a token's lifetime after which it is renewed.
   * @default 0.8
   */
  renewAfter?: number;
  /**
   * After a failed exchange, callers get the cached token (or none) for this long before the next attempt.
   * @default 2000
   */
  retryAfterMs?: number;
  /**
   * How long one exchange may take, in milliseconds.
   * @default 5000
   */
  timeoutMs?: number;
}

interface CachedToken {
  value: string;
  renewAt: number;
  expiresAt: number;
}

/**
 * Holds the service token of a core service (ADR-0005): exchanges `VIVIFIED_SERVICE_SECRET` at identity on first
 * use, caches the token, renews it after 80 % of its lifetime, and never logs it. Give its {@link token} to the
 * service's `VivifiedClient` as the `token` option.
 */
export class ServiceTokenProvider {
  private readonly client: TokenRequester;
  private readonly service: ServiceName;
  private readonly secret: string;
  private readonly log: TransportLogger;
  private readonly now: () => number;
  private readonly renewAfter: number;
  private readonly retryAfterMs: number;
  private readonly timeoutMs: number;
  private cached: CachedToken | undefined;
  private pending: Promise<CachedToken | undefined> | undefined;
  private failedAt: number | undefined;

  constructor(options: ServiceTokenProviderOptions) {
    this.client = options.client;
    this.service = options.service;
    this.secret = options.secret;
    this.log = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.renewAfter = options.renewAfter ?? 0.8;
    this.retryAfterMs = options.retryAfterMs ?? 2_000;
    this.timeoutMs = options.timeoutMs ?? 5_000;
  }

  /**
   * The current service token, exchanged or renewed first when due. Answers undefined while identity cannot
   * give one (the request then goes unauthenticated and a guarded callee refuses it).
   */
  async token(): Promise<string | undefined> {
    const now = this.now();
    const cached = this.cached;
    if (cached && now < cached.renewAt) {
      return cached.value;
    }
    const stillValid = cached && now < cached.expiresAt ? cached.value : undefined;
    if (this.failedAt !== undefined && now - this.failedAt < this.retryAfterMs) {
      return stillValid;
    }
    const fresh = await this.exchange();

    return fresh?.value ?? (cached && this.now() < cached.expiresAt ? cached.value : undefined);
  }

  /** Drops the cached token so the next {@link token} exchanges a new one (e.g. after a callee refused it). */
  invalidate(): void {
    this.cached = undefined;
    this.failedAt = undefined;
  }

  private exchange(): Promise<CachedToken | undefined> {
    this.pending ??= this.fetch().finally(() => {
      this.pending = undefined;
    });

    return this.pending;
  }

  private async fetch(): Promise<CachedToken | undefined> {
    const started = this.now();
    try {
      const reply = parsePayload(
        AccessToken,
        await this.client.requestRaw(
          subjects.identity.tokens.service,
          { service: this.service, secret: this.secret },
          { timeoutMs: this.timeoutMs },
        ),
      );
      const lifetimeMs = reply.expiresIn * 1000;
      const token: CachedToken = {
        value: reply.accessToken,
        renewAt: started + lifetimeMs * this.renewAfter,
        expiresAt: started + lifetimeMs,
      };
      this.cached = token;
      this.failedAt = undefined;
      this.log.debug({ service: this.service, expiresIn: reply.expiresIn }, 'service token obtained');

      return token;
    } catch (error) {
      this.failedAt = this.now();
      // the error names the cause (code, reason), never the secret: the request body is not part of it
      const { code, reason } = error as { code?: string; reason?: string };
      this.log.warn({ service: this.service, code, reason }, 'service token exchange failed');

      return undefined;
    }
  }
}
