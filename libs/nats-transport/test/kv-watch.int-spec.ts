import type { KvWatchHandler, KvWatchOptions } from '@vivified/nats-transport';
import { connectNats, ensureBucket, KvWatch } from '@vivified/nats-transport';
import type { TestNatsServer } from '@vivified/testing';
import { startNatsServer, uniqueName, waitFor } from '@vivified/testing';
import type { KV, KvEntry, NatsConnection } from 'nats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

/** What a watch reported, in order. */
class Recorder implements KvWatchHandler {
  readonly entries: string[] = [];
  readonly loads: string[][] = [];
  readonly watches: KV[] = [];
  /** Epoch ms each entry was handed over, by `key=value`. */
  readonly at = new Map<string, number>();

  onWatch(kv: KV): void {
    this.watches.push(kv);
  }

  onEntry(entry: KvEntry): void {
    const text = `${entry.operation}:${entry.key}:${entry.operation === 'PUT' ? entry.string() : ''}`;
    this.entries.push(text);
    this.at.set(text, Date.now());
  }

  onLoaded(seen: ReadonlySet<string>): void {
    this.loads.push([...seen].sort());
  }
}

function bucketDef(name: string) {
  return { name, owner: 'registry' as const, history: 5, storage: 'file' as const, ttlMs: 0 };
}

describe(KvWatch.name, () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  const running: KvWatch[] = [];

  function watch(options: Partial<KvWatchOptions> & { bucket: string }, handler: KvWatchHandler): KvWatch {
    const kvWatch = new KvWatch(nc, { what: 'test', retryDelayMs: [50, 200], ...options }, handler);
    running.push(kvWatch);

    return kvWatch;
  }

  beforeAll(async () => {
    server = await startNatsServer();
    ({ nc } = await connectNats({ servers: server.url, name: 'kv-watch-test' }));
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((kvWatch) => kvWatch.stop()));
  });

  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  it('replays the current values before start() resolves, then reports the keys that exist', async () => {
    const name = uniqueName('kvw');
    const kv = await ensureBucket(nc, bucketDef(name));
    await kv.put('a', 'one');
    await kv.put('b', 'two');
    await kv.put('a', 'three');
    await kv.put('c', 'gone');
    await kv.delete('c');
    const recorder = new Recorder();
    const kvWatch = watch({ bucket: name }, recorder);

    await kvWatch.start();

    expect(kvWatch.loaded).toBe(true);
    expect(recorder.watches).toHaveLength(1);
    // the last value of each key, the delete marker of c included; c is not among the keys that exist
    expect(recorder.entries).toEqual(['PUT:b:two', 'PUT:a:three', 'DEL:c:']);
    expect(recorder.loads).toEqual([['a', 'b']]);
  });

  it('reports an empty bucket as loaded with no keys', async () => {
    const name = uniqueName('kvw');
    await ensureBucket(nc, bucketDef(name));
    const recorder = new Recorder();
    const kvWatch = watch({ bucket: name }, recorder);

    await kvWatch.start();

    expect(kvWatch.loaded).toBe(true);
    expect(recorder.loads).toEqual([[]]);
  });

  it('hands a put, a delete and a purge over within milliseconds, in revision order', async () => {
    const name = uniqueName('kvw');
    const kv = await ensureBucket(nc, bucketDef(name));
    await kv.put('x', 'old');
    const recorder = new Recorder();
    await watch({ bucket: name }, recorder).start();

    const putAt = Date.now();
    await kv.put('x', 'new');
    await waitFor(() => recorder.at.get('PUT:x:new'), { intervalMs: 5, what: 'the put' });
    await kv.put('y', 'why');
    await kv.delete('x');
    await kv.purge('y');
    await waitFor(() => recorder.entries.length >= 5, { what: 'the delete and the purge' });

    expect((recorder.at.get('PUT:x:new') ?? Infinity) - putAt).toBeLessThan(250);
    expect(recorder.entries).toEqual(['PUT:x:old', 'PUT:x:new', 'PUT:y:why', 'DEL:x:', 'PURGE:y:']);
    // changes after the replay do not report another load
    expect(recorder.loads).toEqual([['x']]);
  });

  it('watches only the matching keys', async () => {
    const name = uniqueName('kvw');
    const kv = await ensureBucket(nc, bucketDef(name));
    await kv.put('bundle', 'v1');
    await kv.put('other', 'no');
    const recorder = new Recorder();
    await watch({ bucket: name, key: 'bundle' }, recorder).start();
    await kv.put('other', 'still no');
    await kv.put('bundle', 'v2');

    await waitFor(() => recorder.entries.includes('PUT:bundle:v2'), { what: 'the second bundle' });

    expect(recorder.entries).toEqual(['PUT:bundle:v1', 'PUT:bundle:v2']);
  });

  it('tells only later changes when asked for updates only', async () => {
    const name = uniqueName('kvw');
    const kv = await ensureBucket(nc, bucketDef(name));
    await kv.put('before', 'old');
    const recorder = new Recorder();
    const kvWatch = watch({ bucket: name, updatesOnly: true }, recorder);
    await kvWatch.start();
    expect(kvWatch.loaded).toBe(true);
    await kv.put('after', 'new');

    await waitFor(() => recorder.entries.length >= 1, { what: 'the update' });

    expect(recorder.entries).toEqual(['PUT:after:new']);
    expect(recorder.loads).toEqual([[]]);
  });

  it('waits for a bucket created after the start, then loads it and follows it', async () => {
    const name = uniqueName('kvw');
    const recorder = new Recorder();
    const kvWatch = watch({ bucket: name, startTimeoutMs: 5_000 }, recorder);
    const started = Date.now();

    await kvWatch.start();

    // the bucket turned out to be missing: start() does not wait for the timeout
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(kvWatch.loaded).toBe(false);
    const kv = await ensureBucket(nc, bucketDef(name));
    await kv.put('late', 'here');
    await waitFor(() => kvWatch.loaded && recorder.entries.includes('PUT:late:here'), {
      what: 'the late bucket',
    });
    await kv.put('later', 'too');
    await waitFor(() => recorder.entries.includes('PUT:later:too'), { what: 'a change of the late bucket' });
    expect(recorder.watches).toHaveLength(1);
  });

  it('follows a bucket deleted and created again under its name from its first revision', async () => {
    const name = uniqueName('kvw');
    let kv = await ensureBucket(nc, bucketDef(name));
    await kv.put('a', 'old');
    await kv.put('b', 'old');
    await kv.put('c', 'old');
    const recorder = new Recorder();
    const kvWatch = watch({ bucket: name }, recorder);
    await kvWatch.start();
    expect(recorder.loads).toEqual([['a', 'b', 'c']]);

    await kv.destroy();
    kv = await ensureBucket(nc, bucketDef(name));
    // revisions start over at 1: the old watch would resume after revision 3 and miss these
    await kv.put('x', 'new');
    await kv.put('y', 'new');

    await waitFor(() => recorder.entries.includes('PUT:x:new') && recorder.entries.includes('PUT:y:new'), {
      what: 'the first entries of the new bucket',
    });
    // the new watch reported the keys that exist now: the old ones are gone
    await waitFor(() => recorder.loads.some((keys) => keys.join() === 'x,y'), { what: 'the new key set' });
    await kv.put('z', 'new');
    await waitFor(() => recorder.entries.includes('PUT:z:new'), { what: 'a change of the new bucket' });
    expect(recorder.watches.length).toBeGreaterThanOrEqual(2);
  });

  it('binds a bucket created while it waits at once, without a warning', async () => {
    const name = uniqueName('kvw');
    const recorder = new Recorder();
    const warnings: string[] = [];
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (_fields: object, message?: string) => warnings.push(message ?? ''),
      error: (_fields: object, message?: string) => warnings.push(message ?? ''),
    };
    // the loop would only look again after 3 s: the bucket's creation advisory wakes it
    const kvWatch = watch({ bucket: name, retryDelayMs: [3_000, 3_000], logger }, recorder);
    await kvWatch.start();
    expect(kvWatch.loaded).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 200));

    const created = Date.now();
    const kv = await ensureBucket(nc, bucketDef(name));
    await kv.put('a', 'one');
    await waitFor(() => recorder.entries.includes('PUT:a:one'), { what: 'the new bucket', timeoutMs: 2_500 });

    expect(Date.now() - created).toBeLessThan(2_500);
    expect(recorder.watches).toHaveLength(1);
    expect(warnings).toEqual([]);
  });

  it('keeps watching when a handler throws', async () => {
    const name = uniqueName('kvw');
    const kv = await ensureBucket(nc, bucketDef(name));
    const seen: string[] = [];
    await watch(
      { bucket: name },
      {
        onEntry: (entry) => {
          seen.push(entry.key);
          if (entry.key === 'bad') {
            throw new Error('handler failure');
          }
        },
      },
    ).start();
    await kv.put('bad', '1');
    await kv.put('good', '2');

    await waitFor(() => seen.includes('good'), { what: 'the entry after the failing one' });

    expect(seen).toEqual(['bad', 'good']);
  });

  it('hands nothing over after stop()', async () => {
    const name = uniqueName('kvw');
    const kv = await ensureBucket(nc, bucketDef(name));
    const recorder = new Recorder();
    const kvWatch = watch({ bucket: name }, recorder);
    await kvWatch.start();
    await kv.put('before', '1');
    await waitFor(() => recorder.entries.length === 1, { what: 'the first put' });

    await kvWatch.stop();
    await kv.put('after', '2');
    await new Promise((resolve) => setTimeout(resolve, 200));

    expect(recorder.entries).toEqual(['PUT:before:1']);
  });

  // last: it restarts the shared server
  it('watches again as soon as the NATS server is back: replays the values and follows the changes', async () => {
    const name = uniqueName('kvw');
    const kv = await ensureBucket(nc, bucketDef(name));
    await kv.put('a', 'before');
    await kv.put('b', 'kept');
    const recorder = new Recorder();
    await watch({ bucket: name }, recorder).start();
    expect(recorder.loads).toEqual([['a', 'b']]);

    await server.kill();
    await server.start();

    await waitFor(() => recorder.loads.length >= 2, {
      timeoutMs: 10_000,
      what: 'the replay after the restart',
    });
    expect(recorder.loads.at(-1)).toEqual(['a', 'b']);
    expect(recorder.watches.length).toBeGreaterThanOrEqual(2);
    const putAt = Date.now();
    await kv.put('a', 'after');
    await waitFor(() => recorder.at.get('PUT:a:after'), {
      intervalMs: 5,
      what: 'the change after the restart',
    });
    expect((recorder.at.get('PUT:a:after') ?? Infinity) - putAt).toBeLessThan(250);
    await kv.delete('b');
    await waitFor(() => recorder.entries.at(-1) === 'DEL:b:', { what: 'the delete after the restart' });
  });
});
