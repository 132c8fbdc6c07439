import { createHash } from 'node:crypto';

import type { TokenRejection } from '@vivified/auth';
import { ErrorCode, VivifiedError } from '@vivified/contracts';

/** What identity answers for an API key: a user access token and its lifetime in seconds. */
export interface ExchangedToken {
  accessToken: string;
  expiresIn: number;
}

/** Options of {@link ApiKeyTokens}. */
export interface ApiKeyTokensOptions {
  /** Exchanges an API key at identity (`identity.tokens.api-key`). */
  exchange: (apiKey: string) => Promise<ExchangedToken>;
  /**
   * How many keys' tokens are kept; the oldest entry goes first.
   * @default 10000
   */
  limit?: number;
  /** The clock, in epoch milliseconds. */
  now?: () => number;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

const REVOKED: TokenRejection = 'token_revoked';

/**
 * Whether a service refused a request for its token being revoked (`UNAUTHENTICATED` `token_revoked`). Only the
 * policy sidecar answers it, before the handler runs (and identity's TOTP setup/enable, before they read
 * anything), so the service did nothing with the request; core services call each other with their own service
 * tokens, so a handler never passes on another service's refusal of the caller's token.
 */
export function isRevokedTokenRefusal(error: unknown): boolean {
  return (
    error instanceof VivifiedError && error.code === ErrorCode.Unauthenticated && error.reason === REVOKED
  );
}

/**
 * The access tokens the gateway's API-key callers' keys exchange for, each kept for half its lifetime so a
 * forwarded token never dies in flight. Identity revokes a user's tokens (password change, log out everywhere,
 * role change, deactivation…) in `vivified_sessions`, and every service then refuses the cached one with
 * `token_revoked`; {@link send} exchanges the key again and retries once (docs/identity-tokens.md "Revocation").
 * Entries are keyed by a digest: a key itself is never held longer than its request.
 */
export class ApiKeyTokens {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly exchanging = new Map<string, Promise<CachedToken>>();
  private readonly exchange: (apiKey: string) => Promise<ExchangedToken>;
  private readonly limit: number;
  private readonly now: () => number;

  constructor(options: ApiKeyTokensOptions) {
    this.exchange = options.exchange;
    this.limit = options.limit ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** The token `apiKey` exchanges for: the cached one while it is fresh, else a new exchange. */
  async token(apiKey: string): Promise<string> {
    return (await this.entry(apiKey, digestOf(apiKey))).token;
  }

  /**
   * Sends a request with the token of `apiKey`. When a service refuses a cached token as revoked
   * ({@link isRevokedTokenRefusal}: refused at authentication, nothing done), the entry is dropped, the key
   * exchanged again — a key of a deactivated user is refused there, and the caller gets that error — and the
   * request sent once more; any other error, a second refusal, or the refusal of a token just exchanged is the
   * caller's.
   */
  async send<T>(apiKey: string, request: (token: string) => Promise<T>): Promise<T> {
    const digest = digestOf(apiKey);
    const cached = this.fresh(digest);
    const first = cached ?? (await this.entry(apiKey, digest));
    try {
      return await request(first.token);
    } catch (error) {
      if (cached === undefined || !isRevokedTokenRefusal(error)) {
        throw error;
      }
      this.forget(digest, first.token);
    }
    const second = await this.entry(apiKey, digest);

    return request(second.token);
  }

  private fresh(digest: string): CachedToken | undefined {
    const cached = this.tokens.get(digest);

    return cached && cached.expiresAt > this.now() ? cached : undefined;
  }

  /** The fresh entry of a key, else one exchange shared by every request of that key that waits for it. */
  private entry(apiKey: string, digest: string): Promise<CachedToken> {
    const cached = this.fresh(digest);
    if (cached) {
      return Promise.resolve(cached);
    }
    let pending = this.exchanging.get(digest);
    if (!pending) {
      pending = this.exchangeNow(apiKey, digest).finally(() => this.exchanging.delete(digest));
      this.exchanging.set(digest, pending);
    }

    return pending;
  }

  private async exchangeNow(apiKey: string, digest: string): Promise<CachedToken> {
    this.tokens.delete(digest);
    const { accessToken, expiresIn } = await this.exchange(apiKey);
    if (this.tokens.size >= this.limit) {
      this.tokens.delete(this.tokens.keys().next().value as string);
    }
    // refresh well before expiry so a forwarded token never dies in flight
    const entry = { token: accessToken, expiresAt: this.now() + (expiresIn * 1000) / 2 };
    this.tokens.set(digest, entry);

    return entry;
  }

  /** Drops the entry of a key if it still holds `token` (a concurrent request may have replaced it already). */
  private forget(digest: string, token: string): void {
    if (this.tokens.get(digest)?.token === token) {
      this.tokens.delete(digest);
    }
  }
}

function digestOf(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('base64url');
}
