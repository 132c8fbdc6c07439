import { randomUUID } from 'node:crypto';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import { networkInterfaces } from 'node:os';

import type { SubscriptionListReply } from '@vivified/contracts';
import { dynamicSubjects, streams, subjects } from '@vivified/contracts';
import type { TestCertificate } from '@vivified/testing';
import { freePort, selfSignedCertificate, waitFor } from '@vivified/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RouterHarness } from './harness';

/**
 * Webhook egress: without the test allowance, a webhook whose host resolves to loopback or the metadata address is
 * never requested (the delivery fails with a typed reason, is audited and dead-lettered); a webhook on a private
 * address listed in VIVIFIED_PLUGIN_NETWORK_RANGES is delivered.
 */

/** A non-loopback IPv4 address of this machine, to stand for a plugin network (undefined: none). */
function localNetworkAddress(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const info of addresses ?? []) {
      if (info.family === 'IPv4' && !info.internal && !info.address.startsWith('169.254.')) {
        return info.address;
      }
    }
  }

  return undefined;
}

const LOOP_HOST = 'loop.hooks.vivified.test';
const META_HOST = 'meta.hooks.vivified.test';
const NET_HOST = 'net.hooks.vivified.test';
const networkAddress = localNetworkAddress();

let harness: RouterHarness;
let server: Server;
let port: number;
let cert: TestCertificate;
const requests: Array<{ path: string; local: string }> = [];

async function adminToken(): Promise<string> {
  return harness.authority.token({ kind: 'user', id: randomUUID(), traits: ['admin', 'plugin_manager'] });
}

async function registerType(type: string, owner: string): Promise<void> {
  await harness.client.requestRaw(
    subjects.events.registerType,
    { type, version: '1.0', owner, classification: ['internal'], fields: [{ name: 'n', type: 'integer' }] },
    { token: await adminToken() },
  );
}

/** Registers a publisher and an HTTP subscriber of `type`; answers the subscription id. */
async function httpSubscriber(type: string, publisher: string, subscriber: string, url: string) {
  await registerType(type, publisher);
  await harness.putPlugin(publisher, { publishes: [type] });
  await harness.putPlugin(subscriber, { subscribes: [type], delivery: { mode: 'http', webhookUrl: url } });

  return waitFor(async () => {
    const reply = (await harness.asPlugin(
      subscriber,
      subjects.events.subscriptions,
      {},
    )) as SubscriptionListReply;

    return reply.subscriptions[0]?.id;
  });
}

beforeAll(async () => {
  cert = selfSignedCertificate([NET_HOST, LOOP_HOST, META_HOST]);
  port = await freePort();
  // one server on every interface: loopback requests would reach it too, so "zero requests" is observable
  server = createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
    requests.push({ path: req.url ?? '', local: req.socket.localAddress ?? '' });
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => server.listen(port, '0.0.0.0', resolve));
  harness = await RouterHarness.start({
    VIVIFIED_EVENTS_MAX_DELIVERIES: '2',
    VIVIFIED_EVENTS_QUARANTINE_AFTER: '100',
    VIVIFIED_EVENTS_WEBHOOK_CA_FILE: cert.certFile,
    VIVIFIED_EVENTS_WEBHOOK_RESOLVE: [
      `${LOOP_HOST}=127.0.0.1`,
      `${META_HOST}=169.254.169.254`,
      ...(networkAddress ? [`${NET_HOST}=${networkAddress}`] : []),
    ].join(','),
    // the plugin network: this machine's address, plus loopback to show the setting never opens it
    VIVIFIED_PLUGIN_NETWORK_RANGES: networkAddress ? `${networkAddress}/32` : '10.0.0.0/8',
  });
}, 60_000);

afterAll(async () => {
  await harness?.stop();
  await new Promise((resolve) => server?.close(resolve));
  cert?.remove();
});

describe('webhook egress', () => {
  it.each([
    ['loopback', LOOP_HOST, 'webhook_address_loopback'],
    ['metadata', META_HOST, 'webhook_address_linkLocal'],
  ])(
    'refuses a webhook on a %s address: zero requests, typed failure, audited, dead-lettered',
    async (name, host, reason) => {
      const type = `acme.egress.${name}`;
      const subscriptionId = await httpSubscriber(
        type,
        `pub-${name}`,
        `sub-${name}`,
        `https://${host}:${port}/${name}`,
      );
      const { eventId } = await harness.publish(`pub-${name}`, type, { payload: { n: 1 } });
      const jsm = await harness.nc.jetstreamManager();
      const letter = await waitFor(
        async () =>
          jsm.streams
            .getMessage(streams.deadLetters.name, {
              last_by_subj: dynamicSubjects.deadLetter(subscriptionId),
            })
            .catch(() => undefined),
        { timeoutMs: 15_000 },
      );
      const body = letter.json<{
        attempts: number;
        error: { code: string; reason?: string };
        envelope: { eventId: string };
      }>();
      expect(body.envelope.eventId).toBe(eventId);
      expect(body.attempts).toBe(2);
      expect(body.error).toMatchObject({ code: 'POLICY_DENIED', reason });
      const denials = await waitFor(async () => {
        const found = (await harness.auditRecords()).filter(
          (r) => r.action === 'event.deliver' && r.outcome === 'denied' && r.details?.['eventId'] === eventId,
        );

        return found.length === 2 ? found : undefined;
      });
      expect(denials.map((r) => r.details?.['reason'])).toEqual([reason, reason]);
      expect(denials[0]?.target).toBe(`plugin:sub-${name}`);
      expect(requests.filter((r) => r.path === `/${name}`)).toHaveLength(0);
    },
  );

  it.skipIf(networkAddress === undefined)(
    'delivers to a private webhook inside VIVIFIED_PLUGIN_NETWORK_RANGES, pinned to the checked address',
    async () => {
      await httpSubscriber('acme.egress.net', 'pub-net', 'sub-net', `https://${NET_HOST}:${port}/net`);
      const { eventId } = await harness.publish('pub-net', 'acme.egress.net', { payload: { n: 2 } });
      const delivered = await waitFor(() => requests.find((r) => r.path === '/net'), { timeoutMs: 10_000 });
      expect(delivered.local.replace(/^::ffff:/, '')).toBe(networkAddress);
      await waitFor(async () =>
        (await harness.auditRecords()).some(
          (r) =>
            r.action === 'event.deliver' && r.outcome === 'success' && r.details?.['eventId'] === eventId,
        ),
      );
    },
  );
});
