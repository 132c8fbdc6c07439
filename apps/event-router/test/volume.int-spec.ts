import { randomUUID } from 'node:crypto';

import { dynamicSubjects, subjects } from '@vivified/contracts';
import type { SubscriptionListReply } from '@vivified/contracts';
import { waitFor } from '@vivified/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { RouterHarness } from './harness';

const EVENTS = Number(process.env['EVENT_ROUTER_VOLUME'] ?? 10_000);
let harness: RouterHarness;

beforeAll(async () => {
  harness = await RouterHarness.start();
}, 60_000);

afterAll(async () => {
  await harness?.stop();
});

it(`${EVENTS} events from one plugin reach two subscribers exactly once each, in stream order`, async () => {
  await harness.putPlugin('vol-pub', { publishes: ['DocumentStored'] });
  const a = harness.subscriber('vol-a');
  const b = harness.subscriber('vol-b');
  await harness.putPlugin('vol-a', { subscribes: ['DocumentStored'] });
  await harness.putPlugin('vol-b', { subscribes: ['DocumentStored'] });
  for (const id of ['vol-a', 'vol-b']) {
    await waitFor(async () => {
      const reply = (await harness.asPlugin(id, subjects.events.subscriptions, {})) as SubscriptionListReply;

      return reply.subscriptions.length === 1;
    });
  }
  const token = await harness.tokenOf('vol-pub');
  const seqOf = new Map<string, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < EVENTS) {
        const n = next;
        next += 1;
        const eventId = `vol-${n}-${randomUUID()}`;
        const reply = (await harness.client.requestRaw(
          dynamicSubjects.publishEvent('DocumentStored'),
          { eventId, payload: { documentId: `d-${n}`, contentType: 'a/b' } },
          { token },
        )) as { seq: number };
        seqOf.set(eventId, reply.seq);
      }
    }),
  );
  await waitFor(() => a.received.length >= EVENTS && b.received.length >= EVENTS, { timeoutMs: 300_000 });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const inStreamOrder = [...seqOf.entries()].sort((x, y) => x[1] - y[1]).map(([id]) => id);

  expect(a.eventIds()).toEqual(inStreamOrder);
  expect(b.eventIds()).toEqual(inStreamOrder);
}, 420_000);
