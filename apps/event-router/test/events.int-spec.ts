import { randomUUID } from 'node:crypto';
import { createServer } from 'node:https';
import type { Server } from 'node:https';

import type { AuditRecord, SubscriptionListReply } from '@vivified/contracts';
import { buckets, dynamicSubjects, ErrorCode, streams, subjects, VivifiedError } from '@vivified/contracts';
import type { TestCertificate } from '@vivified/testing';
import { freePort, selfSignedCertificate, waitFor } from '@vivified/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhook } from '../src/delivery/webhook-signature';
import { WebhookSecretsService } from '../src/delivery/webhook-secrets.service';
import { phiTraits, piiTraits, RouterHarness, traceparentOf } from './harness';

const HOOK_HOST = 'hooks.vivified.test';

let harness: RouterHarness;
let hookServer: Server;
let hookPort: number;
let cert: TestCertificate;
const hookRequests: Array<{ body: string; signature?: string; timestamp?: string; traceparent?: string }> =
  [];

async function adminToken(): Promise<string> {
  return harness.authority.token({
    kind: 'user',
    id: randomUUID(),
    traits: ['admin', 'plugin_manager', 'viewer'],
  });
}

/** Registers `type@1.0` with one required integer field `n` (and an optional `email` marked pii). */
async function registerType(
  type: string,
  owner: string,
  classification: string[] = ['internal'],
): Promise<void> {
  await harness.client.requestRaw(
    subjects.events.registerType,
    {
      type,
      version: '1.0',
      owner,
      classification,
      fields: [
        { name: 'n', type: 'integer', required: true },
        { name: 'email', type: 'string', sensitive: 'pii' },
      ],
    },
    { token: await adminToken() },
  );
}

async function expectError(promise: Promise<unknown>): Promise<VivifiedError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(VivifiedError);

    return error as VivifiedError;
  }
  throw new Error('expected an error');
}

async function auditWhere(predicate: (record: AuditRecord) => boolean): Promise<AuditRecord[]> {
  return (await harness.auditRecords()).filter(predicate);
}

beforeAll(async () => {
  cert = selfSignedCertificate([HOOK_HOST]);
  hookPort = await freePort();
  hookServer = createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      hookRequests.push({
        body: Buffer.concat(chunks).toString('utf8'),
        signature: req.headers[SIGNATURE_HEADER.toLowerCase()] as string | undefined,
        timestamp: req.headers[TIMESTAMP_HEADER.toLowerCase()] as string | undefined,
        traceparent: req.headers.traceparent as string | undefined,
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => hookServer.listen(hookPort, '127.0.0.1', resolve));
  harness = await RouterHarness.start({
    VIVIFIED_EVENTS_MAX_DELIVERIES: '3',
    VIVIFIED_EVENTS_QUARANTINE_AFTER: '6',
    VIVIFIED_EVENTS_WEBHOOK_CA_FILE: cert.certFile,
    VIVIFIED_EVENTS_WEBHOOK_RESOLVE: `${HOOK_HOST}=127.0.0.1`,
    VIVIFIED_PROXY_TEST_ALLOW_RANGES: '127.0.0.0/8',
  });
}, 60_000);

afterAll(async () => {
  await harness?.stop();
  await new Promise((resolve) => hookServer?.close(resolve));
  cert?.remove();
});

describe('publish', () => {
  it('stores a retried publish once (Nats-Msg-Id = event id) and answers only once stored', async () => {
    await harness.putPlugin('pub-dedup', { publishes: ['DocumentStored'] });
    const before = await harness.storedCount();
    const body = { eventId: `evt-${randomUUID()}`, payload: { documentId: 'd1', contentType: 'text/plain' } };
    const first = await harness.publish('pub-dedup', 'DocumentStored', body);
    const second = await harness.publish('pub-dedup', 'DocumentStored', body);

    expect(first.eventId).toBe(body.eventId);
    expect(first.seq).toBeGreaterThan(0);
    expect(second.seq).toBe(first.seq);
    expect(second.duplicate).toBe(true);
    expect(await harness.storedCount()).toBe(before + 1);
    // the publish record is deferred (emitLater, ADR-0007): it reaches the stream a few milliseconds after the reply
    const publishes = await waitFor(async () => {
      const found = await auditWhere(
        (r) => r.action === 'event.publish' && (r.details as { eventId?: string }).eventId === body.eventId,
      );

      return found.length >= 1 ? found : undefined;
    });
    expect(publishes.length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(publishes)).not.toContain('text/plain');
  });

  it('refuses a bad payload with a typed error listing every field error', async () => {
    await harness.putPlugin('pub-bad', { publishes: ['UserCreated'], traits: piiTraits });
    const error = await expectError(
      harness.publish('pub-bad', 'UserCreated', {
        payload: { userId: 'u1', email: 'not-an-email', extra: 1 },
      }),
    );

    expect(error.code).toBe('VALIDATION_FAILED');
    const paths = (error.details ?? []).map((detail) => detail.path).sort();
    expect(paths).toEqual(['payload.email', 'payload.extra', 'payload.username']);
  });

  it('refuses publishers without a token, undeclared types, a forged source and missing data traits', async () => {
    await harness.putPlugin('pub-limited', { publishes: ['DocumentStored', 'UserCreated'] });
    const anonymous = await expectError(
      harness.client.requestRaw(dynamicSubjects.publishEvent('DocumentStored'), { payload: {} }),
    );
    expect(anonymous.code).toBe('UNAUTHENTICATED');

    const undeclared = await expectError(
      harness.publish('pub-limited', 'NotificationSent', {
        payload: { notificationId: 'n', channel: 'c', sentAt: new Date().toISOString() },
      }),
    );
    expect(undeclared.code).toBe('POLICY_DENIED');
    expect(undeclared.reason).toBe('event_type_not_declared');
    expect(undeclared.auditId).toBeDefined();

    const forged = await expectError(
      harness.publish('pub-limited', 'DocumentStored', {
        source: { pluginId: 'someone-else' },
        payload: { documentId: 'd', contentType: 'a/b' },
      }),
    );
    expect(forged.reason).toBe('source_mismatch');

    // UserCreated is PII: a publisher without handles_pii + audit_required is refused by the sidecar
    const pii = await expectError(
      harness.publish('pub-limited', 'UserCreated', {
        payload: { userId: 'u', username: 'alice', email: 'a@example.org' },
      }),
    );
    expect(pii.code).toBe('POLICY_DENIED');

    await harness.putPlugin('pub-disabled', { publishes: ['DocumentStored'], status: 'disabled' });
    await waitFor(async () => {
      const inactive = await expectError(
        harness.publish('pub-disabled', 'DocumentStored', {
          payload: { documentId: 'd', contentType: 'a/b' },
        }),
      );

      return inactive.code === ErrorCode.PluginInactive;
    });
  });
});

describe('subscriptions and delivery', () => {
  it('delivers every event to two subscribers exactly once by event id, with the publisher trace', async () => {
    await registerType('acme.two.subs', 'pub-two');
    await harness.putPlugin('pub-two', { publishes: ['acme.two.subs@1.0'] });
    const a = harness.subscriber('sub-two-a');
    const b = harness.subscriber('sub-two-b');
    await harness.putPlugin('sub-two-a', { subscribes: ['acme.two.subs'] });
    await harness.putPlugin('sub-two-b', { subscribes: ['acme.two.subs'] });
    await waitFor(async () => {
      const reply = (await harness.asPlugin(
        'sub-two-b',
        subjects.events.subscriptions,
        {},
      )) as SubscriptionListReply;

      return reply.subscriptions.length === 1;
    });
    await waitFor(async () => {
      const reply = (await harness.asPlugin(
        'sub-two-a',
        subjects.events.subscriptions,
        {},
      )) as SubscriptionListReply;

      return reply.subscriptions.length === 1;
    });
    const traceId = 'ab'.repeat(16);
    const ids: string[] = [];
    for (let n = 0; n < 200; n += 1) {
      const { eventId } = await harness.publish(
        'pub-two',
        'acme.two.subs',
        { payload: { n } },
        traceparentOf(traceId),
      );
      ids.push(eventId);
    }
    await waitFor(() => a.received.length >= 200 && b.received.length >= 200, { timeoutMs: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(a.eventIds()).toEqual(ids);
    expect(b.eventIds()).toEqual(ids);
    expect(a.received[0]?.envelope.traceId).toBe(traceId);
    expect(a.received[0]?.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(a.received[0]?.envelope.source.pluginId).toBe('pub-two');
  }, 60_000);

  it("one plugin's unsubscribe never touches another's subscription", async () => {
    await registerType('acme.unsub.iso', 'pub-unsub');
    await harness.putPlugin('pub-unsub', { publishes: ['acme.unsub.iso'] });
    await harness.putPlugin('sub-unsub-a');
    await harness.putPlugin('sub-unsub-b');
    const a = harness.subscriber('sub-unsub-a');
    const b = harness.subscriber('sub-unsub-b');
    await waitFor(async () => {
      try {
        await harness.asPlugin('sub-unsub-a', subjects.events.subscribe, { eventTypes: ['acme.unsub.iso'] });
        await harness.asPlugin('sub-unsub-b', subjects.events.subscribe, { eventTypes: ['acme.unsub.iso'] });

        return true;
      } catch {
        return false;
      }
    });
    const after = (await harness.asPlugin('sub-unsub-a', subjects.events.unsubscribe, {
      eventTypes: ['acme.unsub.iso'],
    })) as SubscriptionListReply;
    expect(after.subscriptions).toEqual([]);
    const bSubs = (await harness.asPlugin(
      'sub-unsub-b',
      subjects.events.subscriptions,
      {},
    )) as SubscriptionListReply;
    expect(bSubs.subscriptions.map((s) => s.eventType)).toEqual(['acme.unsub.iso']);

    const { eventId } = await harness.publish('pub-unsub', 'acme.unsub.iso', { payload: { n: 1 } });
    await waitFor(() => b.eventIds().includes(eventId));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(a.received).toEqual([]);
  });

  it('delivers PHI only to a plugin with the PHI traits; the deny is acked and audited', async () => {
    await harness.putPlugin('pub-phi', { publishes: ['PatientRecordAccessed'], traits: phiTraits });
    const withPhi = harness.subscriber('sub-phi-ok');
    const without = harness.subscriber('sub-phi-no');
    await harness.putPlugin('sub-phi-ok', { subscribes: ['PatientRecordAccessed'], traits: phiTraits });
    await harness.putPlugin('sub-phi-no', { subscribes: ['PatientRecordAccessed'], traits: ['handles_pii'] });
    await waitFor(async () => {
      const ok = (await harness.asPlugin(
        'sub-phi-ok',
        subjects.events.subscriptions,
        {},
      )) as SubscriptionListReply;
      const no = (await harness.asPlugin(
        'sub-phi-no',
        subjects.events.subscriptions,
        {},
      )) as SubscriptionListReply;

      return ok.subscriptions.length === 1 && no.subscriptions.length === 1;
    });
    const { eventId } = await harness.publish('pub-phi', 'PatientRecordAccessed', {
      payload: { patientId: 'p-123', recordId: 'r-9', accessedBy: 'dr-who' },
    });
    await waitFor(() => withPhi.eventIds().includes(eventId));
    const denied = await waitFor(async () => {
      const records = await auditWhere(
        (r) =>
          r.action === 'event.deliver' &&
          r.outcome === 'denied' &&
          r.pluginId === 'sub-phi-no' &&
          (r.details as { eventId?: string }).eventId === eventId,
      );

      return records.length === 1 ? records : undefined;
    });
    expect((denied[0]?.details as { reason?: string }).reason).toBe('target_phi_trait_missing');
    expect(JSON.stringify(denied)).not.toContain('p-123');
    expect(without.received).toEqual([]);
    // acked: nothing stays pending for the denied subscriber
    const list = (await harness.asPlugin(
      'sub-phi-no',
      subjects.events.subscriptions,
      {},
    )) as SubscriptionListReply;
    await waitFor(async () => {
      const again = (await harness.asPlugin(
        'sub-phi-no',
        subjects.events.subscriptions,
        {},
      )) as SubscriptionListReply;

      return again.subscriptions[0]?.pending === 0;
    });
    expect(list.subscriptions).toHaveLength(1);
  });

  it('sanitizes PII for a subscriber without the PII traits', async () => {
    await registerType('acme.pii.thing', 'pub-pii', ['pii']);
    await harness.putPlugin('pub-pii', { publishes: ['acme.pii.thing'], traits: piiTraits });
    const plain = harness.subscriber('sub-pii-plain');
    await harness.putPlugin('sub-pii-plain', { subscribes: ['acme.pii.thing'] });
    await waitFor(async () => {
      const reply = (await harness.asPlugin(
        'sub-pii-plain',
        subjects.events.subscriptions,
        {},
      )) as SubscriptionListReply;

      return reply.subscriptions.length === 1;
    });
    const { eventId } = await harness.publish('pub-pii', 'acme.pii.thing', {
      payload: { n: 7, email: 'alice@example.org' },
    });
    await waitFor(() => plain.eventIds().includes(eventId));

    expect(plain.received[0]?.envelope.payload).toEqual({ n: 7 });
  });

  it('retries a failing subscriber with backoff, then dead-letters with the error and attempt count; an admin replays', async () => {
    await registerType('acme.poison.msg', 'pub-dlq');
    await harness.putPlugin('pub-dlq', { publishes: ['acme.poison.msg'] });
    const failing = harness.subscriber('sub-dlq');
    failing.mode = 'fail';
    await harness.putPlugin('sub-dlq', { subscribes: ['acme.poison.msg'] });
    const subscriptionId = await waitFor(async () => {
      const reply = (await harness.asPlugin(
        'sub-dlq',
        subjects.events.subscriptions,
        {},
      )) as SubscriptionListReply;

      return reply.subscriptions[0]?.id;
    });
    const { eventId } = await harness.publish('pub-dlq', 'acme.poison.msg', { payload: { n: 1 } });
    const jsm = await harness.nc.jetstreamManager();
    await waitFor(async () => (await jsm.streams.info(streams.deadLetters.name)).state.messages === 1, {
      timeoutMs: 15_000,
    });
    expect(failing.received.map((r) => r.attempt)).toEqual([1, 2, 3]);
    const letter = await jsm.streams.getMessage(streams.deadLetters.name, {
      last_by_subj: dynamicSubjects.deadLetter(subscriptionId),
    });
    const body = letter.json<{ attempts: number; error: { code: string }; envelope: { eventId: string } }>();
    expect(body.attempts).toBe(3);
    expect(body.error.code).toBe('UNAVAILABLE');
    expect(body.envelope.eventId).toBe(eventId);
    await waitFor(async () => (await auditWhere((r) => r.action === 'event.dead_letter')).length >= 1);

    failing.mode = 'ok';
    const replay = (await harness.client.requestRaw(
      subjects.events.deadLetterReplay,
      { subscriptionId },
      { token: await adminToken(), timeoutMs: 30_000 },
    )) as { replayed: number; failed: number; remaining: number };
    expect(replay).toEqual({ replayed: 1, failed: 0, remaining: 0 });
    expect(failing.received.at(-1)?.envelope.eventId).toBe(eventId);

    const notAdmin = await expectError(
      harness.asPlugin('sub-dlq', subjects.events.deadLetterReplay, { subscriptionId }),
    );
    expect(notAdmin.code).toBe('POLICY_DENIED');
  }, 30_000);

  it('quarantines a subscriber failing continuously instead of spinning', async () => {
    await registerType('acme.quarantine.me', 'pub-q');
    await harness.putPlugin('pub-q', { publishes: ['acme.quarantine.me'] });
    const failing = harness.subscriber('sub-q');
    failing.mode = 'fail';
    await harness.putPlugin('sub-q', { subscribes: ['acme.quarantine.me'] });
    await waitFor(async () => {
      const reply = (await harness.asPlugin(
        'sub-q',
        subjects.events.subscriptions,
        {},
      )) as SubscriptionListReply;

      return reply.subscriptions.length === 1;
    });
    for (let n = 0; n < 3; n += 1) {
      await harness.publish('pub-q', 'acme.quarantine.me', { payload: { n } });
    }
    const state = await waitFor(
      async () => {
        const reply = (await harness.asPlugin(
          'sub-q',
          subjects.events.subscriptions,
          {},
        )) as SubscriptionListReply;

        return reply.subscriptions[0]?.state === 'quarantined' ? reply.subscriptions[0] : undefined;
      },
      { timeoutMs: 15_000 },
    );
    const attempts = failing.received.length;
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(failing.received.length).toBe(attempts);
    expect(attempts).toBe(6);
    expect(await auditWhere((r) => r.action === 'event.subscription.quarantine')).toHaveLength(1);

    failing.mode = 'ok';
    await harness.client.requestRaw(
      subjects.events.subscriptionResume,
      { subscriptionId: state.id },
      { token: await adminToken() },
    );
    await waitFor(
      () =>
        failing.received.some((r) => r.envelope.payload.n === 2 && r.attempt >= 1) &&
        failing.received.length > attempts,
      {
        timeoutMs: 15_000,
      },
    );
  }, 30_000);

  it('holds deliveries of a disabled plugin and delivers everything once it is enabled', async () => {
    await registerType('acme.hold.me', 'pub-hold');
    await harness.putPlugin('pub-hold', { publishes: ['acme.hold.me'] });
    const sub = harness.subscriber('sub-hold');
    await harness.putPlugin('sub-hold', { subscribes: ['acme.hold.me'] });
    await waitFor(async () => {
      const reply = (await harness.asPlugin(
        'sub-hold',
        subjects.events.subscriptions,
        {},
      )) as SubscriptionListReply;

      return reply.subscriptions.length === 1;
    });
    await harness.putPlugin('sub-hold', { subscribes: ['acme.hold.me'], status: 'disabled' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const ids: string[] = [];
    for (let n = 0; n < 20; n += 1) {
      ids.push((await harness.publish('pub-hold', 'acme.hold.me', { payload: { n } })).eventId);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(sub.received).toEqual([]);

    await harness.putPlugin('sub-hold', { subscribes: ['acme.hold.me'], status: 'active' });
    await waitFor(() => new Set(sub.eventIds()).size === 20, { timeoutMs: 15_000 });
    expect(sub.eventIds()).toEqual(ids);
  }, 30_000);

  it('deletes a revoked plugin’s consumers', async () => {
    await registerType('acme.revoke.me', 'pub-rev');
    await harness.putPlugin('sub-rev', { subscribes: ['acme.revoke.me'] });
    const jsm = await harness.nc.jetstreamManager();
    const count = async () => {
      let n = 0;
      for await (const consumer of jsm.consumers.list(streams.events.name)) {
        if (consumer.name.startsWith('sub_sub-rev_')) {
          n += 1;
        }
      }

      return n;
    };
    await waitFor(async () => (await count()) === 1);
    await harness.putPlugin('sub-rev', { subscribes: ['acme.revoke.me'], status: 'revoked' });
    await waitFor(async () => (await count()) === 0);
    expect(await count()).toBe(0);
  });

  it('POSTs to an HTTP plugin’s webhook signed with HMAC over timestamp and body', async () => {
    await registerType('acme.hook.evt', 'pub-hook');
    await harness.putPlugin('pub-hook', { publishes: ['acme.hook.evt'] });
    await harness.putPlugin('sub-hook', {
      subscribes: ['acme.hook.evt'],
      delivery: { mode: 'http', webhookUrl: `https://${HOOK_HOST}:${hookPort}/events` },
    });
    await waitFor(async () => {
      const reply = (await harness.asPlugin(
        'sub-hook',
        subjects.events.subscriptions,
        {},
      )) as SubscriptionListReply;

      return reply.subscriptions.length === 1;
    });
    const traceId = 'cd'.repeat(16);
    const { eventId } = await harness.publish(
      'pub-hook',
      'acme.hook.evt',
      { payload: { n: 3 } },
      traceparentOf(traceId),
    );
    const request = await waitFor(() => hookRequests.find((r) => r.body.includes(eventId)), {
      timeoutMs: 10_000,
    });
    // the plugin asks for its own secret; another plugin gets its own, never this one
    const { secret, algorithm } = (await harness.asPlugin('sub-hook', subjects.events.webhookSecret, {})) as {
      secret: string;
      algorithm: string;
    };
    expect(algorithm).toBe('HMAC-SHA256');
    expect(secret).toBe(await harness.service.app.get(WebhookSecretsService).secretFor('sub-hook'));
    const other = (await harness.asPlugin('pub-hook', subjects.events.webhookSecret, {})) as {
      secret: string;
    };
    expect(other.secret).not.toBe(secret);

    expect(verifyWebhook(secret, request.timestamp, request.body, request.signature)).toBe(true);
    expect(verifyWebhook(secret, request.timestamp, `${request.body} `, request.signature)).toBe(false);
    expect(verifyWebhook('another-secret', request.timestamp, request.body, request.signature)).toBe(false);
    expect(request.traceparent).toMatch(new RegExp(`^00-${traceId}-`));
  });
});

describe('schema registry', () => {
  it('lists canonical and registered types with versions and the active version per major', async () => {
    await registerType('acme.invoice.paid', 'acme-billing');
    await harness.client.requestRaw(
      subjects.events.registerType,
      { type: 'acme.invoice.paid', version: '1.1', owner: 'acme-billing', classification: [], fields: [] },
      { token: await adminToken() },
    );
    const token = await harness.tokenOf('pub-dedup');
    const reply = (await harness.client.requestRaw(subjects.events.types, {}, { token })) as {
      types: Array<{ type: string; version: string; active: boolean; owner: string }>;
    };
    const invoice = reply.types.filter((t) => t.type === 'acme.invoice.paid');

    expect(invoice.map((t) => [t.version, t.active])).toEqual([
      ['1.0', false],
      ['1.1', true],
    ]);
    expect(reply.types.find((t) => t.type === 'PatientRecordAccessed')).toMatchObject({
      owner: 'core',
      version: '1.0',
    });
    const taken = await expectError(
      harness.client.requestRaw(
        subjects.events.registerType,
        { type: 'acme.invoice.paid', version: '2.0', owner: 'intruder', classification: [], fields: [] },
        { token: await adminToken() },
      ),
    );
    expect(taken.reason).toBe('type_owned_by_another_plugin');

    // published to KV for readers that do not ask the router
    const kv = await harness.nc.jetstream().views.kv(buckets.eventTypes.name);
    const entry = await waitFor(async () => {
      const value = (await kv.get('acme.invoice.paid'))?.json<{ versions: Array<{ version: string }> }>();

      return value?.versions.length === 2 ? value : undefined;
    });
    expect(entry.versions.map((v) => v.version)).toEqual(['1.0', '1.1']);
    expect((await kv.get('UserCreated'))?.json<{ versions: unknown[] }>().versions).toHaveLength(1);
  });
});
