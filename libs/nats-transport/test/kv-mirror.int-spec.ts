import type { KvMirrorChange } from '@vivified/nats-transport';
import { connectNats, ensureBucket, KvMirror } from '@vivified/nats-transport';
import type { TestNatsServer } from '@vivified/testing';
import { startNatsServer, uniqueName, waitFor } from '@vivified/testing';
import type { NatsConnection } from 'nats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

function bucketDef(name: string) {
  return { name, owner: 'registry' as const, history: 5, storage: 'file' as const, ttlMs: 0 };
}

/** A mirror of numbers: a value that is not a number is held as nothing. */
function numbers(
  nc: NatsConnection,
  bucket: string,
  changes: Array<KvMirrorChange<number>>,
): KvMirror<number> {
  return new KvMirror<number>(
    nc,
    { bucket, what: 'test', retryDelayMs: [50, 200] },
    {
      decode: (entry) => {
        const value = Number(entry.string());

        return Number.isFinite(value) ? value : undefined;
      },
      onChange: (change) => changes.push(change),
    },
  );
}

const summary = (changes: Array<KvMirrorChange<number>>) =>
  changes.map(({ key, value, previous, entry }) => [key, value, previous, entry?.operation ?? 'gone']);

describe(KvMirror.name, () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  const running: Array<KvMirror<number>> = [];

  beforeAll(async () => {
    server = await startNatsServer();
    ({ nc } = await connectNats({ servers: server.url, name: 'kv-mirror-test' }));
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((mirror) => mirror.stop()));
  });

  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  it('holds what decode makes of each put, drops deletes, purges and values it refuses, and tells each change', async () => {
    const name = uniqueName('kvm');
    const kv = await ensureBucket(nc, bucketDef(name));
    await kv.put('a', '1');
    await kv.put('b', 'not a number');
    const changes: Array<KvMirrorChange<number>> = [];
    const mirror = numbers(nc, name, changes);
    running.push(mirror);

    await mirror.start();
    expect(mirror.loaded).toBe(true);
    expect([mirror.get('a'), mirror.get('b')]).toEqual([1, undefined]);

    await kv.put('a', '2');
    await kv.put('c', '3');
    await kv.delete('c');
    await kv.put('d', '4');
    await kv.purge('d');
    await waitFor(() => changes.length >= 7, { what: 'seven changes' });

    expect(summary(changes)).toEqual([
      ['a', 1, undefined, 'PUT'],
      ['b', undefined, undefined, 'PUT'],
      ['a', 2, 1, 'PUT'],
      ['c', 3, undefined, 'PUT'],
      ['c', undefined, 3, 'DEL'],
      ['d', 4, undefined, 'PUT'],
      ['d', undefined, 4, 'PURGE'],
    ]);
    expect(mirror.values()).toEqual([2]);
  });

  it('drops a key a fresh read no longer has: the bucket deleted and created again without it', async () => {
    const name = uniqueName('kvm');
    let kv = await ensureBucket(nc, bucketDef(name));
    await kv.put('kept', '1');
    await kv.put('gone', '2');
    const changes: Array<KvMirrorChange<number>> = [];
    const mirror = numbers(nc, name, changes);
    running.push(mirror);
    await mirror.start();
    expect(mirror.values().sort()).toEqual([1, 2]);

    await kv.destroy();
    kv = await ensureBucket(nc, bucketDef(name));
    await kv.put('kept', '5');

    // no delete of `gone` was ever written to the new bucket: the new watch's replay drops it
    await waitFor(() => mirror.get('gone') === undefined && mirror.get('kept') === 5, {
      what: 'the copy of the new bucket',
    });
    expect(summary(changes).slice(2)).toEqual(
      expect.arrayContaining([
        ['kept', 5, 1, 'PUT'],
        ['gone', undefined, 2, 'gone'],
      ]),
    );
    expect(mirror.values()).toEqual([5]);
  });
});
