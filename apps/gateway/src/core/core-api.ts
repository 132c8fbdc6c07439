import { createHash } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import type { RpcReply, RpcRequest, RpcSubject } from '@vivified/contracts';
import { parsePayload, rpcContract, subjects } from '@vivified/contracts';
import { VivifiedClient } from '@vivified/nats-transport';
import { NATS_CONNECTION } from '@vivified/service-kit';
import type { NatsConnection } from 'nats';

/** Who is calling through the HTTP edge, as far as the edge can tell. */
export interface EdgeCaller {
  /** Bearer token from `Authorization`. */
  bearer?: string;
  /** API key from `X-API-Key`. */
  apiKey?: string;
  /** Client address (fastify's `request.ip`). */
  ip: string;
  /** `User-Agent`, truncated. */
  userAgent?: string;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

const API_KEY_CACHE_LIMIT = 10_000;

/**
 * Calls the core services' NATS APIs on behalf of an HTTP caller: the request is validated against the same
 * contract the service enforces, and carries the caller's own credentials — never the gateway's — so an anonymous
 * HTTP request reaches a core API as an anonymous NATS request.
 */
@Injectable()
export class CoreApi {
  private readonly client: VivifiedClient;
  private readonly apiKeyTokens = new Map<string, CachedToken>();

  constructor(@Inject(NATS_CONNECTION) nc: NatsConnection) {
    // a client without a token provider: the gateway's service token must never ride on a caller's request
    this.client = new VivifiedClient(nc);
  }

  /** Calls one core contract with the caller's credentials. */
  async call<S extends RpcSubject>(subject: S, body: unknown, caller: EdgeCaller): Promise<RpcReply<S>> {
    const contract = rpcContract(subject);
    const value = contract ? parsePayload(contract.request, body ?? {}) : body;
    const token = await this.tokenOf(caller);

    return this.client.request(subject, value as RpcRequest<S>, token ? { token } : {});
  }

  /** The bearer token to forward: the caller's own, or the one its API key exchanges for. */
  async tokenOf(caller: EdgeCaller): Promise<string | undefined> {
    if (caller.bearer) {
      return caller.bearer;
    }
    if (!caller.apiKey) {
      return undefined;
    }
    // the cache is keyed by a digest: the key itself is never held longer than the request
    const digest = createHash('sha256').update(caller.apiKey).digest('base64url');
    const cached = this.apiKeyTokens.get(digest);
    if (cached && cached.expiresAt > Date.now()) {
      return cached.token;
    }
    this.apiKeyTokens.delete(digest);
    const { accessToken, expiresIn } = await this.client.request(subjects.identity.tokens.apiKey, {
      apiKey: caller.apiKey,
    });
    if (this.apiKeyTokens.size >= API_KEY_CACHE_LIMIT) {
      this.apiKeyTokens.delete(this.apiKeyTokens.keys().next().value as string);
    }
    // refresh well before expiry so a forwarded token never dies in flight
    this.apiKeyTokens.set(digest, { token: accessToken, expiresAt: Date.now() + (expiresIn * 1000) / 2 });

    return accessToken;
  }
}
