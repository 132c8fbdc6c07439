import 'reflect-metadata';

import { randomBytes, randomUUID } from 'node:crypto';

import { Controller, Module } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { JwksKeyStore, TokenVerifier } from '@vivified/auth';
import type { JwksEntry } from '@vivified/contracts';
import {
  buckets,
  defineRpc,
  streams,
  ErrorCode,
  opsPortEnv,
  PUBLIC,
  subjects,
  tokenContract,
  VivifiedError,
} from '@vivified/contracts';
import type { KekProvider } from '@vivified/crypto';
import { EnvelopeCipher } from '@vivified/crypto';
import type { NatsRequestContext } from '@vivified/nats-transport';
import { connectNats, ensureBucket, ensureStream, Handle, VivifiedClient } from '@vivified/nats-transport';
import type { RunningService } from '@vivified/service-kit';
import { bootstrapService, KEK_PROVIDER } from '@vivified/service-kit';
import type { TestNatsServer } from '@vivified/testing';
import { freePort, startNatsServer, uniqueName, waitFor } from '@vivified/testing';
import { IsString } from 'class-validator';
import type { CryptoKey } from 'jose';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const prefix = uniqueName('t').replace(/_/g, '-');

class ThingRequest {
  @IsString()
  text!: string;
}

class ThingReply {
  text!: string;
  caller!: string;
}

const readThing = defineRpc({
  subject: `${prefix}.thing.read`,
  request: ThingRequest,
  reply: ThingReply,
  // an action of the policy engine's vocabulary that any active principal is granted
  access: { action: 'traits.read' },
  summary: 'a guarded test handler',
});

const ping = defineRpc({
  subject: `${prefix}.ping.get`,
  request: ThingRequest,
  reply: ThingReply,
  access: PUBLIC,
  summary: 'a public test handler',
});

const readRecord = defineRpc({
  subject: `${prefix}.record.read`,
  request: ThingRequest,
  reply: ThingReply,
  access: { action: 'traits.read', classification: ['phi'] },
  summary: 'a guarded PHI test handler',
});

@Controller()
class ThingHandlers {
  @Handle(readThing)
  read(@Payload() body: ThingRequest, @Ctx() ctx: NatsRequestContext): ThingReply {
    return { text: body.text, caller: `${ctx.principal?.kind}:${ctx.principal?.id}` };
  }

  @Handle(ping)
  ping(@Payload() body: ThingRequest, @Ctx() ctx: NatsRequestContext): ThingReply {
    return { text: body.text, caller: ctx.principal ? 'someone' : 'anonymous' };
  }

  @Handle(readRecord)
  record(@Payload() body: ThingRequest, @Ctx() ctx: NatsRequestContext): ThingReply {
    return { text: body.text, caller: `${ctx.principal?.kind}:${ctx.principal?.id}` };
  }
}

@Module({ controllers: [ThingHandlers] })
class ThingModule {}

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  entry: JwksEntry;
}

async function signingKey(kid: string): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
  const { x } = await exportJWK(publicKey);
  const entry: JwksEntry = {
    kty: 'OKP',
    crv: 'Ed25519',
    x: x as string,
    kid,
    alg: 'EdDSA',
    use: 'sig',
    createdAt: new Date().toISOString(),
  };

  return { kid, privateKey, entry };
}

async function tokenFor(key: SigningKey, sub: string, traits: string[] = []): Promise<string> {
  const typ = sub.split(':')[0];

  return new SignJWT({ typ, traits, ...(typ === 'user' ? { roles: ['viewer'] } : {}) })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid })
    .setIssuer(tokenContract.issuer)
    .setAudience(tokenContract.audience)
    .setSubject(sub)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime('15m')
    .sign(key.privateKey);
}

async function rejection(promise: Promise<unknown>): Promise<VivifiedError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(VivifiedError);

  return error as VivifiedError;
}

describe('bootstrapService: bearer tokens on every non-public handler (nats-server)', () => {
  const secret = randomBytes(32).toString('base64url');
  const userId = randomUUID();
  const saved: Record<string, string | undefined> = {};
  let nats: TestNatsServer;
  let service: RunningService;
  let nc: NatsConnection;
  let caller: VivifiedClient;
  let published: SigningKey;

  beforeAll(async () => {
    const [server, opsPort] = await Promise.all([startNatsServer(), freePort()]);
    nats = server;
    const env: Record<string, string> = {
      VIVIFIED_NATS_URL: nats.url,
      VIVIFIED_LOG_LEVEL: 'silent',
      [opsPortEnv('policy')]: String(opsPort),
      VIVIFIED_KEK: `v1:${randomBytes(32).toString('base64')}`,
      VIVIFIED_SERVICE_SECRET: secret,
    };
    for (const [name, value] of Object.entries(env)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
    // identity is not running: the key bucket does not exist when the service starts
    service = await bootstrapService({ service: 'policy', version: '0.0.0-test', module: ThingModule });
    ({ nc } = await connectNats({ servers: nats.url, name: 'auth-test-caller' }));
    caller = new VivifiedClient(nc);
    published = await signingKey(`k-${randomUUID()}`);
  });

  afterAll(async () => {
    await nc?.drain().catch(() => undefined);
    await service?.stop();
    await nats?.stop();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) {
        delete process.env[name];
      } else {
        process.env[name] = value;
      }
    }
  });

  it('refuses a request without a token with UNAUTHENTICATED (401)', async () => {
    const error = await rejection(caller.requestRaw(readThing.subject, { text: 'hi' }));

    expect(error.code).toBe(ErrorCode.Unauthenticated);
    expect(error.status).toBe(401);
    expect(error.reason).toBe('token_missing');
  });

  it('answers UNAVAILABLE keys_unavailable while identity has published no key', async () => {
    const token = await tokenFor(published, `user:${userId}`);

    const error = await rejection(caller.requestRaw(readThing.subject, { text: 'hi' }, { token }));

    expect(error.code).toBe(ErrorCode.Unavailable);
    expect(error.reason).toBe('keys_unavailable');
  });

  it('accepts a token signed with a key published in the bucket, and hands the principal to the handler', async () => {
    const kv = await ensureBucket(nc, buckets.jwks);
    await kv.put(published.kid, JSON.stringify(published.entry));
    const token = await tokenFor(published, `user:${userId}`);

    const reply = await waitFor(
      () => caller.requestRaw(readThing.subject, { text: 'hi' }, { token }) as Promise<ThingReply>,
      { what: 'the guarded handler to accept the token', timeoutMs: 15_000 },
    );

    expect(reply).toEqual({ text: 'hi', caller: `user:${userId}` });
  });

  it('refuses a token signed with a key that is not in the bucket', async () => {
    const stranger = await signingKey('k-stranger');
    const token = await tokenFor(stranger, `user:${userId}`);

    const error = await rejection(caller.requestRaw(readThing.subject, { text: 'hi' }, { token }));

    expect(error.code).toBe(ErrorCode.Unauthenticated);
    expect(error.reason).toBe('kid_unknown');
  });

  it('refuses a PHI handler to a caller without the PHI traits, and serves one with them', async () => {
    const viewer = await tokenFor(published, `user:${userId}`, ['admin']);
    const phiTraits = ['handles_phi', 'audit_required', 'encryption_required'];
    const handler = await tokenFor(published, 'plugin:records-app', phiTraits);
    // the policy sidecar serves a plugin only while the registry lists it active, with its approved traits, and
    // a PHI call only once its audit record is stored: the registry's bucket and the audit stream stand in here
    const plugins = await ensureBucket(nc, buckets.plugins);
    await plugins.put(
      'records-app',
      JSON.stringify({
        id: 'records-app',
        status: 'active',
        traits: phiTraits,
        version: '1.0.0',
        manifestDigest: 'ab'.repeat(32),
        updatedAt: new Date().toISOString(),
      }),
    );
    await ensureStream(await nc.jetstreamManager(), streams.audit);

    const error = await rejection(caller.requestRaw(readRecord.subject, { text: 'x' }, { token: viewer }));
    const reply = await waitFor(
      () => caller.requestRaw(readRecord.subject, { text: 'x' }, { token: handler }) as Promise<ThingReply>,
      { what: 'the sidecar to see the plugin active', timeoutMs: 5_000 },
    );

    expect(error.code).toBe(ErrorCode.PolicyDenied);
    expect(error.reason).toBe('phi_trait_missing');
    expect(reply).toEqual({ text: 'x', caller: 'plugin:records-app' });
  });

  it('keeps public handlers open without a token', async () => {
    await expect(caller.requestRaw(ping.subject, { text: 'hi' })).resolves.toEqual({
      text: 'hi',
      caller: 'anonymous',
    });
  });

  it("sends the service's own token, exchanged at identity with VIVIFIED_SERVICE_SECRET, on its client's requests", async () => {
    const exchanges: unknown[] = [];
    // identity's side of the exchange, on its own connection
    const identity = nc.subscribe(subjects.identity.tokens.service, {
      callback: (_error, msg) => {
        const body = msg.json<{ service: string; secret: string }>();
        exchanges.push(body);
        void tokenFor(published, `service:${body.service}`).then((accessToken) =>
          msg.respond(JSON.stringify({ accessToken, expiresIn: 3600, tokenType: 'Bearer' })),
        );
      },
    });
    await nc.flush();
    try {
      const own = service.app.get(VivifiedClient);

      const first = await own.requestRaw(readThing.subject, { text: 'from policy' });
      const second = await own.requestRaw(readThing.subject, { text: 'again' });

      expect(first).toEqual({ text: 'from policy', caller: 'service:policy' });
      expect(second).toEqual({ text: 'again', caller: 'service:policy' });
      expect(exchanges).toEqual([{ service: 'policy', secret }]);
    } finally {
      identity.unsubscribe();
    }
  });

  it('provides the key store, the verifier, the KEK provider and the envelope cipher to every module', async () => {
    const verifier = service.app.get(TokenVerifier);
    const cipher = service.app.get(EnvelopeCipher);
    const keks = service.app.get<string, KekProvider>(KEK_PROVIDER);

    await expect(verifier.verify(await tokenFor(published, `user:${userId}`))).resolves.toMatchObject({
      principal: { kind: 'user', id: userId },
    });
    expect(service.app.get(JwksKeyStore).kids()).toContain(published.kid);
    await expect(keks.current()).resolves.toMatchObject({ version: 'v1' });
    const sealed = await cipher.encrypt('secret value', 'test.record:1');
    await expect(cipher.decrypt(sealed, 'test.record:1')).resolves.toEqual(Buffer.from('secret value'));
  });
});
