import type { OnModuleInit } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import type { ProxyResponse } from '@vivified/contracts';
import {
  ErrorCode,
  parsePayload,
  ProxyRequest,
  rpcContract,
  subjects,
  VivifiedError,
} from '@vivified/contracts';
import { AddressPolicy, testAllowance } from '@vivified/egress';
import type { Principal } from '@vivified/nats-transport';
import { domainMatches, normalizeHost } from '@vivified/policy-engine';
import { PolicySidecar } from '@vivified/policy-sidecar';
import type { ServiceLogger } from '@vivified/service-kit';
import { SERVICE_CONFIG, SERVICE_LOGGER } from '@vivified/service-kit';
import type { MsgHdrs } from 'nats';

import type { GatewayConfig } from '../lane-edge';
import { LaneAuditQueue, laneError, outcomeOf } from '../lane-audit';
import { laneTrace } from '../lane-headers';
import { LaneMetrics } from '../lane-metrics';
import { PluginDirectory } from '../plugin-directory';
import type { EgressResponse } from './egress.client';
import { EgressClient, EgressResolver } from './egress.client';
import { forwardableHeaders, returnedHeaders } from './proxy-headers';
import type { ProxyTarget } from './proxy-url';
import { parseProxyUrl, proxyDomainOf, proxyRefusal } from './proxy-url';
import { TokenBuckets } from './rate-limiter';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const TEXT = /^(?:text\/|application\/(?:[a-z0-9.+-]*\+)?(?:json|xml|javascript|x-www-form-urlencoded))/i;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Why a redirect of this status changes the method to GET (RFC 9110 §15.4: what clients do). */
const becomesGet = (status: number, method: string) =>
  status === 303 ? method !== 'HEAD' : (status === 301 || status === 302) && method === 'POST';

interface Hop {
  target: ProxyTarget;
  method: ProxyRequest['method'];
  body: Buffer | undefined;
}

/**
 * The proxy lane (issue 8 §3): governed egress for plugins with `external_service`. Per request and per redirect
 * hop: policy (`proxy.request` with `context.domain`: the trait and the admin's proxy approval in the signed
 * bundle), the domain in the plugin's own approved `allowedDomains` (KV), https unless plain http is approved
 * for that plugin and domain, a token bucket per plugin and domain, DNS resolved once with every address checked
 * (public unicast only) and the connection pinned to it, request headers stripped, response headers filtered,
 * body caps and timeouts. Every request is audited.
 */
@Injectable()
export class ProxyLaneService implements OnModuleInit {
  private readonly addresses: AddressPolicy;
  private readonly buckets: TokenBuckets;
  private readonly httpApprovals: ReadonlyArray<{ plugin: string; pattern: string }>;

  constructor(
    private readonly sidecar: PolicySidecar,
    private readonly directory: PluginDirectory,
    private readonly resolver: EgressResolver,
    private readonly egress: EgressClient,
    private readonly metrics: LaneMetrics,
    private readonly auditQueue: LaneAuditQueue,
    @Inject(SERVICE_CONFIG) private readonly config: GatewayConfig,
    @Inject(SERVICE_LOGGER) logger: ServiceLogger,
  ) {
    const ranges = testAllowance(config);
    if (ranges.length > 0) {
      logger.warn(
        { ranges: config.proxyTestAllowRanges },
        'proxy lane: TEST allowance of private ranges is on',
      );
    }
    this.addresses = new AddressPolicy(ranges);
    this.buckets = new TokenBuckets(config.proxyBurst, config.proxyRatePerMinute);
    this.httpApprovals = (config.proxyHttpAllowed ?? '')
      .split(',')
      .filter((pair) => pair.includes('='))
      .map((pair) => {
        const [plugin, pattern] = pair.split('=') as [string, string];

        return { plugin, pattern: normalizeHost(pattern) };
      });
  }

  onModuleInit(): void {
    this.sidecar.enrich('proxy.request', (input, context) => ({
      ...input,
      context: { ...input.context, domain: proxyDomainOf(context.payload) },
    }));
  }

  /** Authenticates and authorizes a request that came over HTTP (the NATS transport does it for the subject). */
  async authorize(headers: MsgHdrs, body: unknown): Promise<{ principal: Principal; request: ProxyRequest }> {
    const contract = rpcContract(subjects.proxy.request);
    if (!contract) {
      throw new VivifiedError(ErrorCode.Internal, 'proxy contract missing');
    }
    const guarded = await this.sidecar.authorize({
      subject: subjects.proxy.request,
      headers,
      access: contract.access,
      classification: [],
      payload: body ?? {},
    });

    return { principal: guarded.principal, request: parsePayload(ProxyRequest, guarded.payload) };
  }

  /** Makes one authorized request (and the redirects it asked to follow). */
  async request(
    principal: Principal,
    request: ProxyRequest,
    headers: MsgHdrs | undefined,
  ): Promise<ProxyResponse> {
    const started = performance.now();
    const trace = laneTrace(headers);
    let failure: VivifiedError | undefined;
    let host = '';
    let status: number | undefined;
    let redirects = 0;
    let bytes = 0;
    try {
      if (principal.kind !== 'plugin') {
        throw proxyRefusal('plugin_required');
      }
      const first = parseProxyUrl(request.url);
      host = first.host;
      const forwarded = forwardableHeaders(request.headers);
      let hop: Hop = { target: first, method: request.method, body: this.bodyOf(request) };
      for (;;) {
        host = hop.target.host;
        const response = await this.hop(principal.id, hop, forwarded);
        status = response.status;
        bytes = response.body.length;
        const location = response.headers['location'];
        if (
          request.followRedirects === true &&
          REDIRECTS.has(response.status) &&
          typeof location === 'string' &&
          redirects < this.config.proxyMaxRedirects
        ) {
          redirects += 1;
          const next = parseProxyUrl(new URL(location, hop.target.url).href);
          // the new host is decided again: policy (trait + approval) for the redirect's domain
          if (headers) {
            await this.sidecar.authorize({
              subject: subjects.proxy.request,
              headers,
              access: { action: 'proxy.request', kinds: ['plugin'] },
              classification: [],
              payload: { ...request, url: next.url.href },
            });
          }
          const toGet = becomesGet(response.status, hop.method);
          hop = { target: next, method: toGet ? 'GET' : hop.method, body: toGet ? undefined : hop.body };
          continue;
        }

        return this.answer(response, hop.target.url);
      }
    } catch (error) {
      failure = laneError(error);
      if (failure.code === ErrorCode.PolicyDenied || failure.code === ErrorCode.BadRequest) {
        this.metrics.refusal('proxy', failure.reason ?? 'denied');
      }
      throw failure;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      const outcome = outcomeOf(failure);
      this.metrics.call('proxy', outcome, failure?.code ?? 'OK', seconds);
      this.auditQueue.add({
        category: 'proxy',
        action: 'proxy.request',
        outcome,
        actor: { kind: principal.kind, id: `${principal.kind}:${principal.id}` },
        ...(principal.kind === 'plugin' ? { pluginId: principal.id } : {}),
        ...(host ? { target: `domain:${host.slice(0, 180)}` } : {}),
        details: {
          method: request.method,
          host,
          latencyMs: Math.round(seconds * 100_000) / 100,
          traceId: trace.traceId,
          redirects,
          responseBytes: bytes,
          ...(status === undefined ? {} : { status }),
          ...(failure ? { code: failure.code, ...(failure.reason ? { reason: failure.reason } : {}) } : {}),
        },
      });
    }
  }

  /** One hop: approvals, scheme, rate, resolution, address checks, then the pinned request. */
  private async hop(pluginId: string, hop: Hop, headers: Record<string, string>): Promise<EgressResponse> {
    const { target } = hop;
    const entry = this.directory.active(pluginId);
    const approved = (entry?.allowedDomains ?? []).some((pattern) =>
      domainMatches(normalizeHost(pattern), target.host),
    );
    if (!approved) {
      throw proxyRefusal('domain_not_approved');
    }
    if (
      target.scheme !== 'https' &&
      !this.httpApprovals.some((a) => a.plugin === pluginId && domainMatches(a.pattern, target.host))
    ) {
      throw proxyRefusal('https_required');
    }
    const taken = this.buckets.take(`${pluginId}|${target.host}`);
    if (!taken.ok) {
      throw new VivifiedError(
        ErrorCode.RateLimited,
        `proxy rate limit for ${target.host} exceeded; retry in ${taken.retryAfterSeconds} s`,
        { reason: 'proxy_rate_limited' },
      );
    }
    let resolved;
    try {
      resolved = await this.resolver.resolve(target.host);
    } catch (error) {
      throw new VivifiedError(ErrorCode.Unavailable, 'the host does not resolve', {
        reason: 'dns_failed',
        cause: error,
      });
    }
    if (resolved.length === 0) {
      throw new VivifiedError(ErrorCode.Unavailable, 'the host does not resolve', { reason: 'dns_failed' });
    }
    // one bad address refuses the name: a rebinding answer mixes a public and a private one
    for (const { address } of resolved) {
      const problem = this.addresses.problem(address);
      if (problem !== undefined) {
        throw proxyRefusal(
          problem,
          'proxy request refused: the host resolves to an address the proxy may not reach',
        );
      }
    }
    const pinned = resolved[0];
    if (hop.body !== undefined && hop.body.length > this.config.proxyMaxBodyBytes) {
      throw new VivifiedError(ErrorCode.PayloadTooLarge, 'proxy request body too large', {
        reason: 'request_too_large',
      });
    }

    return this.egress.send({
      url: target.url,
      address: pinned.address,
      family: pinned.family === 6 ? 6 : 4,
      method: hop.method,
      headers,
      ...(hop.body === undefined ? {} : { body: hop.body }),
      timeoutMs: this.config.proxyTimeoutMs,
      maxBytes: this.config.proxyMaxBodyBytes,
    });
  }

  private bodyOf(request: ProxyRequest): Buffer | undefined {
    if (request.body === undefined) {
      return undefined;
    }
    // a base64 body is at most 4/3 of its bytes: refuse huge strings before decoding them
    if (request.body.length > Math.ceil((this.config.proxyMaxBodyBytes * 4) / 3) + 4) {
      throw new VivifiedError(ErrorCode.PayloadTooLarge, 'proxy request body too large', {
        reason: 'request_too_large',
      });
    }
    const body = Buffer.from(request.body, request.bodyEncoding === 'base64' ? 'base64' : 'utf8');
    if (body.length > this.config.proxyMaxBodyBytes) {
      throw new VivifiedError(ErrorCode.PayloadTooLarge, 'proxy request body too large', {
        reason: 'request_too_large',
      });
    }

    return body;
  }

  private answer(response: EgressResponse, url: URL): ProxyResponse {
    const headers = returnedHeaders(response.headers);
    const type = headers['content-type'] ?? '';
    let body: string | undefined;
    if (TEXT.test(type) && !headers['content-encoding']) {
      try {
        body = utf8.decode(response.body);
      } catch {
        body = undefined;
      }
    }

    return {
      status: response.status,
      headers,
      body: body ?? response.body.toString('base64'),
      bodyEncoding: body === undefined ? 'base64' : 'utf8',
      url: url.href,
    };
  }
}
