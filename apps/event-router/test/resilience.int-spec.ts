import { randomUUID } from 'node:crypto';

import { buckets, streams, subjects } from '@vivified/contracts';
import type { SubscriptionListReply } from '@vivified/contracts';
import { ensureBucket } from '@vivified/nats-transport';
import { waitFor } from '@vivified/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RouterHarness } from './harness';

let harness: RouterHarness;

/** A publisher that retries with the same event id until the lane answers (stored once by Nats-Msg-Id). */
async function publishRetrying(
  pluginId: string,
  eventType: string,
  eventId: string,
  n: number,
): Promise<void> {
  await waitFor(
    async () => {
      try {
        await harness.publish(pluginId, eventType, {
          eventId,
          payload: { documentId: `d-${n}`, contentType: 'a/b' },
        });

        return true;
      } catch {
        return false;
      }
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
}

async function subscribed(pluginId: string): Promise<void> {
  await waitFor(async () => {
    const reply = (await harness.asPlugin(
      pluginId,
      subjects.events.subscriptions,
      {},
    )) as SubscriptionListReply;

    return reply.subscriptions.length === 1;
  });
}

beforeAll(async () => {
  harness = await RouterHarness.start({
    VIVIFIED_EVENTS_ACK_WAIT_MS: '2000',
    VIVIFIED_EVENTS_DELIVERY_TIMEOUT_MS: '500',
  });
  await harness.putPlugin('pub-res', { publishes: ['DocumentStored'] });
}, 60_000);

afterAll(async () => {
  await harness?.stop();
});

describe('resilience', () => {
  it('loses nothing when the event-router crashes mid-stream and comes back', async () => {
    const sub = harness.subscriber('sub-crash');
    await harness.putPlugin('sub-crash', { subscribes: ['DocumentStored'] });
    await subscribed('sub-crash');
    const ids = Array.from({ length: 300 }, () => `crash-${randomUUID()}`);
    const before = await harness.storedCount();
    for (let n = 0; n < 150; n += 1) {
      await publishRetrying('pub-res', 'DocumentStored', ids[n], n);
    }
    await harness.crashRouter();
    const restart = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      await harness.startRouter();
    })();
    for (let n = 150; n < 300; n += 1) {
      await publishRetrying('pub-res', 'DocumentStored', ids[n], n);
    }
    await restart;
    await waitFor(() => ids.every((id) => sub.eventIds().includes(id)), { timeoutMs: 60_000 });

    expect(new Set(sub.eventIds().filter((id) => id.startsWith('crash-'))).size).toBe(300);
    expect((await harness.storedCount()) - before).toBe(300);
  }, 120_000);

  it('loses nothing across a NATS restart', async () => {
    const sub = harness.subscriber('sub-nats');
    await harness.putPlugin('sub-nats', { subscribes: ['DocumentStored'] });
    await subscribed('sub-nats');
    const ids = Array.from({ length: 200 }, () => `nats-${randomUUID()}`);
    for (let n = 0; n < 100; n += 1) {
      await publishRetrying('pub-res', 'DocumentStored', ids[n], n);
    }
    await harness.nats.halt();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await harness.nats.start();
    for (let n = 100; n < 200; n += 1) {
      await publishRetrying('pub-res', 'DocumentStored', ids[n], n);
    }
    await waitFor(() => ids.every((id) => sub.eventIds().includes(id)), { timeoutMs: 60_000 });

    expect(new Set(sub.eventIds().filter((id) => id.startsWith('nats-'))).size).toBe(200);
  }, 120_000);

  it('holds deliveries and keeps the consumer when the plugins bucket is lost, and loses nothing', async () => {
    const sub = harness.subscriber('sub-lost');
    await harness.putPlugin('sub-lost', { subscribes: ['DocumentStored'] });
    await subscribed('sub-lost');
    const jsm = await harness.nc.jetstreamManager();
    const consumers = async () => {
      const names: string[] = [];
      for await (const consumer of jsm.consumers.list(streams.events.name)) {
        if (consumer.name.startsWith('sub_sub-lost_')) {
          names.push(consumer.name);
        }
      }

      return names;
    };
    const [consumer] = await consumers();
    await harness.putPlugin('pub-gone', { publishes: ['DocumentStored'] });

    // the bucket is lost and created again empty (as the registry does at its next start): no delete was written
    await (await harness.nc.jetstream().views.kv(buckets.plugins.name)).destroy();
    await ensureBucket(harness.nc, buckets.plugins);
    // the router has read the new bucket once a plugin only the old one held is refused
    await waitFor(
      () =>
        harness
          .publish('pub-gone', 'DocumentStored', { payload: { documentId: 'd', contentType: 'a/b' } })
          .then(
            () => false,
            () => true,
          ),
      { timeoutMs: 20_000, what: 'the router to read the new plugins bucket' },
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    await harness.putPlugin('pub-res', { publishes: ['DocumentStored'] });
    const ids = Array.from({ length: 20 }, () => `lost-${randomUUID()}`);
    for (let n = 0; n < ids.length; n += 1) {
      await publishRetrying('pub-res', 'DocumentStored', ids[n], n);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    // unknown for now: nothing delivered, and the durable consumer (with its events) still there
    expect(sub.eventIds().filter((id) => id.startsWith('lost-'))).toEqual([]);
    expect(await consumers()).toEqual([consumer]);

    // the registry writes the plugin again: everything arrives, in order, once
    await harness.putPlugin('sub-lost', { subscribes: ['DocumentStored'] });
    await waitFor(() => ids.every((id) => sub.eventIds().includes(id)), { timeoutMs: 20_000 });
    expect(sub.eventIds().filter((id) => id.startsWith('lost-'))).toEqual(ids);
  }, 60_000);
});
