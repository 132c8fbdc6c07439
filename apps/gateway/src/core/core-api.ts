import { Inject, Injectable } from '@nestjs/common';
import type { RpcReply, RpcRequest, RpcSubject } from '@vivified/contracts';
import { parsePayload, rpcContract, subjects } from '@vivified/contracts';
import { VivifiedClient } from '@vivified/nats-transport';
import { NATS_CONNECTION } from '@vivified/service-kit';
import type { NatsConnection } from 'nats';

import { ApiKeyTokens } from './api-key-tokens';

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

/**
 * Calls the core services' NATS APIs on behalf of an HTTP caller: the request is validated against the same
 * contract the service enforces, and carries the caller's own credentials — never the gateway's — so an anonymous
 * HTTP request reaches a core API as an anonymous NATS request.
 */
@Injectable()
export class CoreApi {
  private readonly client: VivifiedClient;
  private readonly apiKeyTokens: ApiKeyTokens;

  constructor(@Inject(NATS_CONNECTION) nc: NatsConnection) {
    // a client without a token provider: the gateway's service token must never ride on a caller's request
    this.client = new VivifiedClient(nc);
    this.apiKeyTokens = new ApiKeyTokens({
      exchange: (apiKey) => this.client.request(subjects.identity.tokens.apiKey, { apiKey }),
    });
  }

  /**
   * Calls one core contract with the caller's credentials; an API-key caller's cached token that the service
   * refuses as revoked is exchanged again and the call made once more (see {@link ApiKeyTokens.send}).
   */
  async call<S extends RpcSubject>(subject: S, body: unknown, caller: EdgeCaller): Promise<RpcReply<S>> {
    const contract = rpcContract(subject);
    const value = (contract ? parsePayload(contract.request, body ?? {}) : body) as RpcRequest<S>;

    return this.withCallerToken(caller, (token) =>
      this.client.request(subject, value, token ? { token } : {}),
    );
  }

  /**
   * Runs `request` with the bearer token to forward (see {@link tokenOf}); for an API-key caller, retried once
   * with a fresh token when the cached one was refused as revoked before anything ran.
   */
  withCallerToken<T>(caller: EdgeCaller, request: (token: string | undefined) => Promise<T>): Promise<T> {
    if (caller.bearer || !caller.apiKey) {
      return request(caller.bearer);
    }

    return this.apiKeyTokens.send(caller.apiKey, request);
  }

  /** The bearer token to forward: the caller's own, or the one its API key exchanges for. */
  async tokenOf(caller: EdgeCaller): Promise<string | undefined> {
    if (caller.bearer) {
      return caller.bearer;
    }
    if (!caller.apiKey) {
      return undefined;
    }

    return this.apiKeyTokens.token(caller.apiKey);
  }
}
