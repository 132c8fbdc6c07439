import { AuthGuard, JwksKeyStore, TokenVerifier } from '@vivified/auth';
import type { BucketDefinition, JwksEntry } from '@vivified/contracts';
import { buckets, ErrorCode, tokenContract, VivifiedError } from '@vivified/contracts';
import { connectNats, ensureBucket } from '@vivified/nats-transport';
import type { TestNatsServer } from '@vivified/testing';
import { startNatsServer, uniqueName, waitFor } from '@vivified/testing';
import type { CryptoKey } from 'jose';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { KV, NatsConnection, Subscription } from 'nats';
import { headers as natsHeaders } from 'nats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const INTERVAL_MS = 60_000;

/** A bucket like `vivified_jwks`, unique to one test. */
function bucketDef(): BucketDefinition {
  return { ...buckets.jwks, name: uniqueName('jwks') };
}

async function newKey(kid: string, retiresAt?: Date): Promise<{ entry: JwksEntry; privateKey: CryptoKey }> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
  const jwk = await exportJWK(publicKey);
  const entry: JwksEntry = {
    kty: 'OKP',
    crv: 'Ed25519',
    x: jwk.x as string,
    kid,
    alg: 'EdDSA',
    use: 'sig',
    createdAt: new Date().toISOString(),
    ...(retiresAt ? { retiresAt: retiresAt.toISOString() } : {}),
  };

  return { entry, privateKey };
}

async function publish(kv: KV, entry: JwksEntry): Promise<void> {
  await kv.put(entry.kid, JSON.stringify(entry));
}

async function serviceToken(kid: string, privateKey: CryptoKey): Promise<string> {
  return new SignJWT({ typ: 'service', traits: [] })
    .setProtectedHeader({ alg: 'EdDSA', kid })
    .setIssuer(tokenContract.issuer)
    .setAudience(tokenContract.audience)
    .setSubject('service:registry')
    .setJti(uniqueName('jti'))
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(privateKey);
}

async function rejection(promise: Promise<unknown>): Promise<VivifiedError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(VivifiedError);

  return error as VivifiedError;
}

describe(JwksKeyStore.name, () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  let observer: NatsConnection;
  const stores: JwksKeyStore[] = [];
  const subscriptions: Subscription[] = [];

  beforeAll(async () => {
    server = await startNatsServer();
    ({ nc } = await connectNats({ servers: server.url, name: 'jwks-store' }));
    ({ nc: observer } = await connectNats({ servers: server.url, name: 'jwks-identity' }));
  });

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.stop()));
    for (const sub of subscriptions.splice(0)) {
      sub.unsubscribe();
    }
  });

  afterAll(async () => {
    await nc?.drain();
    await observer?.drain();
    await server?.stop();
  });

  function store(bucket: string, options: { now?: () => number; maxRereadsPerInterval?: number } = {}) {
    const created = new JwksKeyStore(nc, {
      bucket,
      refreshMinIntervalMs: INTERVAL_MS,
      retryDelayMs: [50, 200],
      ...options,
    });
    stores.push(created);

    return created;
  }

  /** Counts the reads of single keys of a bucket as they cross the wire (direct or stream message gets). */
  function countKeyReads(bucket: string): () => number {
    let count = 0;
    for (const subject of [`$JS.API.DIRECT.GET.KV_${bucket}.>`, `$JS.API.STREAM.MSG.GET.KV_${bucket}`]) {
      subscriptions.push(
        observer.subscribe(subject, {
          callback: () => {
            count += 1;
          },
        }),
      );
    }

    return () => count;
  }

  it('loads the keys already in the bucket at start, and a token signed with one verifies', async () => {
    const def = bucketDef();
    const kv = await ensureBucket(observer, def);
    const { entry, privateKey } = await newKey('k1');
    await publish(kv, entry);
    const sut = store(def.name);

    await sut.start();

    expect(sut.loaded).toBe(true);
    expect(sut.kids()).toEqual(['k1']);
    const verified = await new TokenVerifier({ keys: sut }).verify(await serviceToken('k1', privateKey));
    expect(verified.principal).toEqual({ kind: 'service', id: 'registry', traits: [], roles: [] });
  });

  it('sees keys put after start through the watch, without re-reading', async () => {
    const def = bucketDef();
    const kv = await ensureBucket(observer, def);
    const reads = countKeyReads(def.name);
    const sut = store(def.name);
    await sut.start();
    expect(sut.kids()).toEqual([]);

    const { entry } = await newKey('k-new');
    await publish(kv, entry);

    await waitFor(() => sut.kids().includes('k-new'), { what: 'the watched key' });
    await expect(sut.resolve('k-new')).resolves.toBeDefined();
    expect(reads()).toBe(0);
  });

  it('re-reads an unknown kid once per interval, and all kids together a bounded number of times', async () => {
    const def = bucketDef();
    const kv = await ensureBucket(observer, def);
    await publish(kv, (await newKey('k1')).entry);
    let now = Date.now();
    const sut = store(def.name, { now: () => now, maxRereadsPerInterval: 3 });
    await sut.start();
    const reads = countKeyReads(def.name);
    await observer.flush();

    const first = await Promise.all([sut.resolve('ghost'), sut.resolve('ghost'), sut.resolve('ghost')]);
    await sut.resolve('ghost');
    // a read already sent reaches the observer before the answer to its own flush
    await observer.flush();

    expect(first).toEqual([undefined, undefined, undefined]);
    expect(reads()).toBe(1);

    now += INTERVAL_MS;
    await sut.resolve('ghost');
    await observer.flush();
    expect(reads()).toBe(2);

    // a flood of made-up kids: the first two get the remaining re-reads of this interval, the rest none
    for (const kid of ['flood-1', 'flood-2', 'flood-3', 'flood-4']) {
      await expect(sut.resolve(kid)).resolves.toBeUndefined();
    }
    await observer.flush();
    expect(reads()).toBe(4);
  });

  it('forgets a deleted key', async () => {
    const def = bucketDef();
    const kv = await ensureBucket(observer, def);
    await publish(kv, (await newKey('k-old')).entry);
    await publish(kv, (await newKey('k-current')).entry);
    const sut = store(def.name);
    await sut.start();
    await expect(sut.resolve('k-old')).resolves.toBeDefined();

    await kv.delete('k-old');

    await waitFor(() => !sut.kids().includes('k-old'), { what: 'the deleted key to go' });
    await expect(sut.resolve('k-old')).resolves.toBeUndefined();
    await expect(sut.resolve('k-current')).resolves.toBeDefined();
  });

  it('refuses a key whose retiresAt has passed', async () => {
    const def = bucketDef();
    const kv = await ensureBucket(observer, def);
    let now = Date.now();
    const retired = await newKey('k-retired', new Date(now - 1_000));
    const retiring = await newKey('k-retiring', new Date(now + 60_000));
    await publish(kv, retired.entry);
    await publish(kv, retiring.entry);
    const sut = store(def.name, { now: () => now });
    await sut.start();
    const verifier = new TokenVerifier({ keys: sut, now: () => now });

    await expect(sut.resolve('k-retired')).resolves.toBeUndefined();
    const refused = await rejection(verifier.verify(await serviceToken('k-retired', retired.privateKey)));
    expect(refused.reason).toBe('kid_unknown');
    await expect(
      verifier.verify(await serviceToken('k-retiring', retiring.privateKey)),
    ).resolves.toBeDefined();

    now += 61_000;
    await expect(sut.resolve('k-retiring')).resolves.toBeUndefined();
  });

  it('ignores entries that are not Ed25519 signing keys of their own kid', async () => {
    const def = bucketDef();
    const kv = await ensureBucket(observer, def);
    const good = await newKey('k-good');
    await publish(kv, good.entry);
    await kv.put('k-garbage', 'not json');
    await kv.put('k-other-kid', JSON.stringify({ ...good.entry, kid: 'k-good-2' }));
    await kv.put('k-rsa', JSON.stringify({ ...good.entry, kid: 'k-rsa', kty: 'RSA', alg: 'RS256' }));
    await kv.put('k-extra', JSON.stringify({ ...good.entry, kid: 'k-extra', d: 'private-part' }));
    const sut = store(def.name);

    await sut.start();

    expect(sut.kids()).toEqual(['k-good']);
  });

  it('waits for a bucket that does not exist yet, answering keys_unavailable meanwhile', async () => {
    const def = bucketDef();
    const sut = store(def.name);
    const started = Date.now();

    await sut.start();

    expect(Date.now() - started).toBeLessThan(2_000);
    expect(sut.loaded).toBe(false);
    const guard = new AuthGuard({ verifier: new TokenVerifier({ keys: sut }) });
    const key = await newKey('k-late');
    const hdrs = natsHeaders();
    hdrs.set('Authorization', `Bearer ${await serviceToken('k-late', key.privateKey)}`);
    const input = {
      subject: 'test.thing.read',
      headers: hdrs,
      access: { action: 'test.thing.read' },
      classification: [],
      payload: {},
    };
    const unavailable = await rejection(guard.authorize(input));
    expect(unavailable.code).toBe(ErrorCode.Unavailable);
    expect(unavailable.reason).toBe('keys_unavailable');

    const kv = await ensureBucket(observer, def);
    await publish(kv, key.entry);

    const result = await waitFor(() => guard.authorize(input), { what: 'the late key' });
    expect(result.principal).toMatchObject({ kind: 'service', id: 'registry' });
  });
});
