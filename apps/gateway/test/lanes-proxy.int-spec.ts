import type { LookupAddress } from 'node:dns';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { ProxyRequest, ProxyResponse } from '@vivified/contracts';
import { ErrorCode, subjects } from '@vivified/contracts';
import { VivifiedClient } from '@vivified/nats-transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EgressResolver } from '../src/lanes/proxy/egress.client';
import { LanesHarness, rejection } from './lanes-harness';

const PLUGIN = 'egress-app';
const OTHER = 'other-app';
const NO_TRAIT = 'quiet-app';
const MAX_BODY = 4_096;

/** What the test resolver answers: public-looking names that resolve where a test needs them to. */
const DNS: Readonly<Record<string, readonly string[]>> = {
  'api.example.org': ['127.0.0.1'],
  'rate.example.org': ['127.0.0.1'],
  'hop.svc.example.org': ['127.0.0.1'],
  'secure.example.org': ['127.0.0.1'],
  'kvonly.example.org': ['127.0.0.1'],
  'bundleonly.example.org': ['127.0.0.1'],
  'other.example.org': ['127.0.0.1'],
  'private.example.org': ['10.0.0.5'],
  'meta.example.org': ['169.254.169.254'],
  'v6meta.example.org': ['fd00:ec2::254'],
  'mapped.example.org': ['::ffff:10.0.0.1'],
  'rebind.example.org': ['93.184.216.34', '192.168.0.10'],
  'multicast.example.org': ['224.0.0.1'],
  'cgnat.example.org': ['100.64.1.1'],
  'linklocal6.example.org': ['fe80::1'],
  'zero.example.org': ['0.0.0.0'],
};

const APPROVED = [
  'api.example.org',
  'rate.example.org',
  '*.svc.example.org',
  'secure.example.org',
  'private.example.org',
  'meta.example.org',
  'v6meta.example.org',
  'mapped.example.org',
  'rebind.example.org',
  'multicast.example.org',
  'cgnat.example.org',
  'linklocal6.example.org',
  'zero.example.org',
];

/** The proxy lane: SSRF vectors refused, the allowed path through the test allowance to a local server. */
describe('proxy lane', () => {
  let harness: LanesHarness;
  let server: Server;
  let port: number;
  let hits = 0;
  let client: VivifiedClient;
  let token: string;

  const proxy = (body: ProxyRequest, as = token) =>
    client.request(subjects.proxy.request, body, { token: as, timeoutMs: 10_000 });
  const local = (host: string, path = '/echo', scheme = 'http') => `${scheme}://${host}:${port}${path}`;

  beforeAll(async () => {
    server = createServer((request: IncomingMessage, response: ServerResponse) => {
      hits += 1;
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const url = request.url ?? '/';
        if (url.startsWith('/redirect-private')) {
          response.writeHead(302, { location: 'http://private.example.org/' }).end();
        } else if (url.startsWith('/redirect-literal')) {
          response.writeHead(302, { location: `http://127.0.0.1:${port}/echo` }).end();
        } else if (url.startsWith('/redirect-ok')) {
          response.writeHead(303, { location: local('hop.svc.example.org') }).end();
        } else if (url.startsWith('/big')) {
          response.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(MAX_BODY * 3));
        } else {
          response
            .writeHead(200, {
              'content-type': 'application/json',
              'set-cookie': 'session=secret',
              'x-internal': 'leak',
              etag: '"v1"',
            })
            .end(
              JSON.stringify({
                method: request.method,
                url,
                headers: request.headers,
                body: Buffer.concat(chunks).toString('utf8'),
              }),
            );
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    harness = await LanesHarness.start({
      VIVIFIED_PROXY_TEST_ALLOW_RANGES: '127.0.0.0/8',
      VIVIFIED_PROXY_HTTP_ALLOWED: `${PLUGIN}=api.example.org,${PLUGIN}=rate.example.org,${PLUGIN}=*.svc.example.org,${PLUGIN}=private.example.org,${PLUGIN}=kvonly.example.org,${PLUGIN}=bundleonly.example.org,${OTHER}=other.example.org`,
      VIVIFIED_PROXY_MAX_BODY: String(MAX_BODY),
      VIVIFIED_PROXY_BURST: '20',
      VIVIFIED_PROXY_RATE: '60',
    });
    harness.gateway.app.get(EgressResolver).useLookup((host: string) => {
      const addresses = DNS[host];
      if (!addresses) {
        return Promise.reject(new Error(`ENOTFOUND ${host}`));
      }

      return Promise.resolve(
        addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })),
      );
    });
    await harness.plugin({
      id: PLUGIN,
      traits: ['external_service'],
      allowedDomains: [...APPROVED, 'kvonly.example.org'],
    });
    await harness.plugin({ id: OTHER, traits: ['external_service'], allowedDomains: ['other.example.org'] });
    await harness.plugin({ id: NO_TRAIT, traits: [], allowedDomains: ['api.example.org'] });
    await harness.rules([
      { type: 'proxy', plugin: PLUGIN, domains: [...APPROVED, 'bundleonly.example.org'] },
      { type: 'proxy', plugin: OTHER, domains: ['other.example.org'] },
      { type: 'proxy', plugin: NO_TRAIT, domains: ['api.example.org'] },
    ]);
    token = await harness.token(PLUGIN);
    client = new VivifiedClient(await harness.connection(PLUGIN));
  }, 60_000);

  afterAll(async () => {
    await harness?.stop();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('reaches an approved domain through the test allowance, pinned to the checked address', async () => {
    const reply = await proxy({
      method: 'POST',
      url: local('api.example.org', '/echo?q=1'),
      headers: {
        'content-type': 'application/json',
        'x-trace-me': 'yes',
        cookie: 'a=b',
        authorization: 'Bearer leaked',
        'proxy-authorization': 'Basic x',
        'x-forwarded-for': '10.0.0.1',
        forwarded: 'for=10.0.0.1',
        host: 'evil.example.net',
      },
      body: '{"hello":"world"}',
    });

    expect(reply.status).toBe(200);
    expect(reply.bodyEncoding).toBe('utf8');
    const echoed = JSON.parse(reply.body) as {
      method: string;
      url: string;
      headers: Record<string, string>;
      body: string;
    };
    expect(echoed).toMatchObject({ method: 'POST', url: '/echo?q=1', body: '{"hello":"world"}' });
    expect(echoed.headers['host']).toBe(`api.example.org:${port}`);
    expect(echoed.headers['x-trace-me']).toBe('yes');
    for (const stripped of [
      'cookie',
      'authorization',
      'proxy-authorization',
      'x-forwarded-for',
      'forwarded',
    ]) {
      expect(echoed.headers).not.toHaveProperty(stripped);
    }
    expect(reply.headers).toMatchObject({ 'content-type': 'application/json', etag: '"v1"' });
    expect(reply.headers).not.toHaveProperty('set-cookie');
    expect(reply.headers).not.toHaveProperty('x-internal');
  });

  it('accepts a trailing dot and wildcard subdomains', async () => {
    expect((await proxy({ method: 'GET', url: local('api.example.org.') })).status).toBe(200);
    expect((await proxy({ method: 'GET', url: local('hop.svc.example.org') })).status).toBe(200);
  });

  const vectors: Array<[string, string, string?]> = [
    ['loopback literal', 'https://127.0.0.1/'],
    ['hex IPv4', 'https://0x7f000001/'],
    ['decimal IPv4', 'https://2130706433/'],
    ['octal IPv4', 'https://0177.0.0.1/'],
    ['short IPv4', 'https://127.1/'],
    ['zero address', 'https://0/'],
    ['IPv6 loopback', 'https://[::1]/'],
    ['IPv4-mapped IPv6', 'https://[::ffff:127.0.0.1]/'],
    ['mapped metadata', 'https://[::ffff:a9fe:a9fe]/'],
    ['metadata literal', 'http://169.254.169.254/latest/meta-data/'],
    ['metadata name', 'https://metadata.google.internal/computeMetadata/v1/'],
    ['single-label name', 'https://metadata/'],
    ['localhost', 'https://localhost/'],
    ['10/8', 'https://10.0.0.1/'],
    ['172.16/12', 'https://172.16.0.1/'],
    ['192.168/16', 'https://192.168.1.1/'],
    ['100.64/10', 'https://100.64.0.1/'],
    ['fc00::/7', 'https://[fc00::1]/'],
    ['fe80::/10', 'https://[fe80::1]/'],
    ['userinfo trick', 'https://api.example.org@127.0.0.1/'],
    ['userinfo with empty name', 'https://@api.example.org/'],
    ['backslash trick', 'https://api.example.org\\@127.0.0.1/'],
    ['fragment trick', 'https://127.0.0.1#@api.example.org/'],
    ['unapproved domain', 'https://unapproved.example.net/'],
    ['approved name as a prefix', 'https://api.example.org.evil.net/'],
    ['wildcard two levels deep', 'https://a.b.svc.example.org/'],
    ['IDN look-alike', 'https://аpi.example.org/'],
    ['another plugin’s domain', 'https://other.example.org/'],
    ['approved in KV only', 'http://kvonly.example.org/'],
    ['approved in the bundle only', 'http://bundleonly.example.org/'],
    ['http without approval', 'http://secure.example.org/'],
    ['non-http scheme', 'ftp://api.example.org/'],
    ['file scheme', 'file:///etc/passwd'],
    ['double trailing dot', 'https://api.example.org../'],
    ['name resolving to 10/8', 'http://private.example.org/'],
    ['name resolving to metadata', 'https://meta.example.org/'],
    ['name resolving to fd00:ec2::254', 'https://v6meta.example.org/'],
    ['name resolving to IPv4-mapped private', 'https://mapped.example.org/'],
    ['rebinding answer with one private address', 'https://rebind.example.org/'],
    ['name resolving to multicast', 'https://multicast.example.org/'],
    ['name resolving to 100.64/10', 'https://cgnat.example.org/'],
    ['name resolving to fe80::/10', 'https://linklocal6.example.org/'],
    ['name resolving to 0.0.0.0', 'https://zero.example.org/'],
  ];

  it(`refuses every one of ${vectors.length} SSRF vectors without reaching anything`, async () => {
    expect(vectors.length).toBeGreaterThanOrEqual(25);
    const before = hits;
    const outcomes: string[] = [];
    for (const [name, url] of vectors) {
      const error = await rejection(proxy({ method: 'GET', url }));
      expect([ErrorCode.PolicyDenied, ErrorCode.BadRequest], `${name}: ${error.code}`).toContain(error.code);
      outcomes.push(`${name}: ${error.code} ${error.reason ?? ''}`);
    }
    expect(hits, outcomes.join('\n')).toBe(before);
  });

  it('keeps redirects off by default and checks every hop when they are followed', async () => {
    const off = await proxy({ method: 'GET', url: local('api.example.org', '/redirect-private') });
    expect(off.status).toBe(302);
    expect(off.headers['location']).toBe('http://private.example.org/');

    const toPrivate = await rejection(
      proxy({ method: 'GET', url: local('api.example.org', '/redirect-private'), followRedirects: true }),
    );
    expect(toPrivate.code).toBe(ErrorCode.PolicyDenied);
    expect(toPrivate.reason).toMatch(/^address_/);
    const toLiteral = await rejection(
      proxy({ method: 'GET', url: local('api.example.org', '/redirect-literal'), followRedirects: true }),
    );
    expect(toLiteral.reason).toBe('ip_literal_not_allowed');

    const followed = await proxy({
      method: 'POST',
      url: local('api.example.org', '/redirect-ok'),
      body: 'x',
      followRedirects: true,
    });
    expect(followed.status).toBe(200);
    expect(followed.url).toBe(local('hop.svc.example.org'));
    expect((JSON.parse(followed.body) as { method: string }).method).toBe('GET');
  });

  it('caps request and response bodies', async () => {
    const request = await rejection(
      proxy({ method: 'POST', url: local('api.example.org'), body: 'y'.repeat(MAX_BODY + 1) }),
    );
    expect(request.code).toBe(ErrorCode.PayloadTooLarge);
    const response = await rejection(proxy({ method: 'GET', url: local('api.example.org', '/big') }));
    expect(response.code).toBe(ErrorCode.PayloadTooLarge);
  });

  it('refuses plugins without external_service and principals that are not plugins', async () => {
    const quiet = await rejection(
      proxy({ method: 'GET', url: local('api.example.org') }, await harness.token(NO_TRAIT)),
    );
    expect(quiet.code).toBe(ErrorCode.PolicyDenied);
    expect(quiet.reason).toBe('external_service_trait_missing');
    const user = await rejection(
      proxy(
        { method: 'GET', url: local('api.example.org') },
        await harness.authority.token({
          kind: 'user',
          id: '0b9e1c55-1111-4222-8333-444455556666',
          traits: ['admin'],
        }),
      ),
    );
    expect(user.code).toBe(ErrorCode.PolicyDenied);
  });

  it('rate-limits per plugin and domain with a burst', async () => {
    const answers: string[] = [];
    for (let i = 0; i < 22; i += 1) {
      answers.push(
        await proxy({ method: 'GET', url: local('rate.example.org') }).then(
          (reply) => String(reply.status),
          (error: { code: string }) => error.code,
        ),
      );
    }
    expect(answers.slice(0, 20)).toEqual(Array.from({ length: 20 }, () => '200'));
    expect(answers.slice(20)).toEqual([ErrorCode.RateLimited, ErrorCode.RateLimited]);
    // another domain of the same plugin has its own bucket
    expect((await proxy({ method: 'GET', url: local('hop.svc.example.org') })).status).toBe(200);
  });

  it('serves POST /v1/proxy for HTTP plugins with the same checks', async () => {
    const ok = await fetch(`${harness.base}/v1/proxy`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'GET', url: local('api.example.org', '/echo') }),
    });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as ProxyResponse).status).toBe(200);
    const refused = await fetch(`${harness.base}/v1/proxy`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'GET', url: 'https://169.254.169.254/' }),
    });
    expect(refused.status).toBe(403);
    const anonymous = await fetch(`${harness.base}/v1/proxy`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'GET', url: local('api.example.org') }),
    });
    expect(anonymous.status).toBe(401);
  });

  it('audits proxy requests without their URL path or headers', async () => {
    const records = await harness.auditRecords('proxy');
    const success = records.find((record) => record.outcome === 'success');

    expect(success).toMatchObject({
      action: 'proxy.request',
      pluginId: PLUGIN,
      target: 'domain:api.example.org',
    });
    expect(success?.details['status']).toBe(200);
    expect(typeof success?.details['latencyMs']).toBe('number');
    expect(JSON.stringify(records)).not.toContain('Bearer leaked');
    expect(records.some((record) => record.outcome === 'denied')).toBe(true);
  });
});
