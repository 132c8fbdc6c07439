import 'reflect-metadata';

import { randomBytes, randomUUID } from 'node:crypto';

import type { INestMicroservice } from '@nestjs/common';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, Payload } from '@nestjs/microservices';
import { JwksKeyStore, TokenVerifier } from '@vivified/auth';
import {
  buckets,
  defineRpc,
  dynamicSubjects,
  ErrorCode,
  sessionRevocationKey,
  streams,
  VivifiedError,
} from '@vivified/contracts';
import type { NatsRequestContext } from '@vivified/nats-transport';
import {
  connectNats,
  ensureBucket,
  ensureStream,
  Handle,
  NatsTransport,
  PassThroughRpcExceptionFilter,
  VivifiedClient,
} from '@vivified/nats-transport';
import { bundleSigningKeys } from '@vivified/policy-engine';
import type { DecisionAuditInput, DecisionAuditSink, RunningPolicySidecar } from '@vivified/policy-sidecar';
import { startPolicySidecar } from '@vivified/policy-sidecar';
import type { TestNatsServer } from '@vivified/testing';
import { readAuditStream, startNatsServer, TestAuthority, uniqueName, waitFor } from '@vivified/testing';
import { IsOptional, IsString } from 'class-validator';
import type { JetStreamClient, KV, NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const prefix = uniqueName('t').replace(/_/g, '-');

class ListRequest {
  @IsOptional()
  @IsString()
  cursor?: string;
}

class ListReply {
  caller!: string;
}

/** A user-facing handler (the user list), guarded like every handler of every service. */
const listUsers = defineRpc({
  subject: `${prefix}.users.list`,
  request: ListRequest,
  reply: ListReply,
  access: { action: 'identity.user.list', kinds: ['user'] },
  summary: 'a user-facing test handler',
});

@Controller()
class UserHandlers {
  @Handle(listUsers)
  list(@Payload() _body: ListRequest, @Ctx() ctx: NatsRequestContext): ListReply {
    return { caller: `${ctx.principal?.kind}:${ctx.principal?.id}` };
  }
}

@Module({ controllers: [UserHandlers] })
class UsersTestModule {}

/** Decision records to VIVIFIED_AUDIT with ack, as service-kit's AuditEmitter does. */
class StreamAudit implements DecisionAuditSink {
  constructor(private readonly js: JetStreamClient) {}

  async emit(input: DecisionAuditInput): Promise<{ id: string }> {
    const record = { ...input, id: randomUUID(), ts: new Date().toISOString(), service: 'identity' };
    await this.js.publish(dynamicSubjects.auditRecord(record.category), JSON.stringify(record), {
      msgID: record.id,
    });

    return record;
  }
}

const ADMIN_TRAITS = ['admin', 'user_manager', 'viewer'];

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

async function outcome(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (reply) => reply,
    (thrown: unknown) => thrown,
  );
}

describe('policy sidecar: revoked user tokens from vivified_sessions (nats-server)', () => {
  let nats: TestNatsServer;
  let nc: NatsConnection;
  let serviceNc: NatsConnection;
  let authority: TestAuthority;
  let keyStore: JwksKeyStore;
  let policy: RunningPolicySidecar;
  let app: INestMicroservice;
  let caller: VivifiedClient;
  let sessions: KV;
  const userId = randomUUID();
  const otherUserId = randomUUID();

  const call = (token: string) => caller.requestRaw(listUsers.subject, {}, { token });
  const userToken = (id: string, issuedAt?: number) =>
    authority.token({
      kind: 'user',
      id,
      traits: ADMIN_TRAITS,
      roles: ['admin'],
      ...(issuedAt === undefined ? {} : { issuedAt }),
    });
  const refusedWith = async (token: string, reason: string): Promise<VivifiedError | undefined> => {
    const result = await outcome(call(token));

    return result instanceof VivifiedError && result.reason === reason ? result : undefined;
  };

  beforeAll(async () => {
    nats = await startNatsServer();
    ({ nc } = await connectNats({ servers: nats.url, name: 'revocation-test-caller' }));
    ({ nc: serviceNc } = await connectNats({ servers: nats.url, name: 'revocation-test-service' }));
    authority = await TestAuthority.create(nc);
    await ensureStream(await nc.jetstreamManager(), streams.audit);
    keyStore = new JwksKeyStore(serviceNc);
    await keyStore.start();
    // the service starts before identity created vivified_sessions: the watch waits for it in the background
    policy = await startPolicySidecar(serviceNc, {
      verifier: new TokenVerifier({ keys: keyStore }),
      publicKey: bundleSigningKeys(randomBytes(32)).publicKey,
      audit: new StreamAudit(serviceNc.jetstream()),
    });
    app = await NestFactory.createMicroservice(UsersTestModule, {
      strategy: new NatsTransport({ connection: serviceNc, queue: `${prefix}-users`, guard: policy.sidecar }),
      logger: false,
    });
    app.useGlobalFilters(new PassThroughRpcExceptionFilter());
    await app.listen();
    caller = new VivifiedClient(nc);
  });

  afterAll(async () => {
    await app?.close();
    await policy?.stop();
    await keyStore?.stop();
    await Promise.allSettled([nc?.drain(), serviceNc?.drain()]);
    await nats?.stop();
  });

  it('serves users while the bucket does not exist yet (identity has revoked nothing)', async () => {
    expect(policy.sessions.loaded).toBe(false);

    await expect(call(await userToken(userId))).resolves.toEqual({ caller: `user:${userId}` });
  });

  it('follows the bucket once identity creates it', async () => {
    sessions = await ensureBucket(nc, buckets.sessions);

    // the watch retries binding at most once a second
    await waitFor(() => policy.sessions.loaded, {
      what: 'the sessions bucket to be watched',
      timeoutMs: 3_000,
    });
    await expect(call(await userToken(userId))).resolves.toEqual({ caller: `user:${userId}` });
  });

  it('refuses, within a second, a token issued before validAfter: UNAUTHENTICATED token_revoked, audited', async () => {
    const validAfter = nowSeconds();
    const old = await userToken(userId, validAfter - 30);
    await expect(call(old)).resolves.toEqual({ caller: `user:${userId}` });
    const started = Date.now();

    await sessions.put(sessionRevocationKey(userId), JSON.stringify({ active: true, validAfter }));
    const error = await waitFor(() => refusedWith(old, 'token_revoked'), {
      what: 'the old token to be refused',
      timeoutMs: 1_000,
      intervalMs: 20,
    });

    expect(Date.now() - started).toBeLessThan(1_000);
    expect(error.code).toBe(ErrorCode.Unauthenticated);
    expect(error.message).toBe('invalid token');
    expect(error.auditId).toMatch(/^[0-9a-f-]{36}$/);
    const record = (await readAuditStream(nc)).find((candidate) => candidate.id === error.auditId);
    expect(record).toMatchObject({
      category: 'policy',
      action: 'policy.decide',
      outcome: 'denied',
      actor: { kind: 'user', id: `user:${userId}` },
      details: {
        action: 'identity.user.list',
        effect: 'deny',
        ruleId: 'user_token_revoked',
        reason: 'token_revoked',
      },
    });
    expect(JSON.stringify(record)).not.toContain(old);
  });

  it('serves a token issued in the second of validAfter or later, and other users', async () => {
    const entry = await sessions.get(sessionRevocationKey(userId));
    const { validAfter } = entry?.json() as { validAfter: number };

    await expect(call(await userToken(userId, validAfter))).resolves.toEqual({ caller: `user:${userId}` });
    await expect(call(await userToken(userId, validAfter + 1))).resolves.toEqual({
      caller: `user:${userId}`,
    });
    await expect(call(await userToken(otherUserId, validAfter - 30))).resolves.toEqual({
      caller: `user:${otherUserId}`,
    });
  });

  it('refuses every token of a deactivated user, and serves new ones again once reactivated', async () => {
    const validAfter = nowSeconds();
    const fresh = await userToken(userId);
    const old = await userToken(userId, validAfter - 30);

    await sessions.put(sessionRevocationKey(userId), JSON.stringify({ active: false, validAfter }));
    const error = await waitFor(() => refusedWith(fresh, 'token_revoked'), {
      what: 'the deactivated user to be refused',
      timeoutMs: 1_000,
      intervalMs: 20,
    });
    expect(error.code).toBe(ErrorCode.Unauthenticated);
    const record = (await readAuditStream(nc)).find((candidate) => candidate.id === error.auditId);
    expect(record?.details).toMatchObject({ ruleId: 'user_inactive', reason: 'token_revoked' });

    await sessions.put(sessionRevocationKey(userId), JSON.stringify({ active: true, validAfter }));
    await waitFor(() => call(fresh).catch(() => undefined), {
      what: 'the reactivated user to be served',
      timeoutMs: 1_000,
      intervalMs: 20,
    });
    expect(await refusedWith(old, 'token_revoked')).toBeDefined();
  });

  it('refuses every token of a user whose entry does not validate (fail closed), until a valid one', async () => {
    const fresh = await userToken(otherUserId);

    await sessions.put(sessionRevocationKey(otherUserId), JSON.stringify({ active: 'no' }));
    await waitFor(() => refusedWith(fresh, 'token_revoked'), {
      what: 'the invalid entry to refuse the user',
      timeoutMs: 1_000,
      intervalMs: 20,
    });

    await sessions.delete(sessionRevocationKey(otherUserId));
    await expect(
      waitFor(() => call(fresh).catch(() => undefined), { what: 'the user to be served', timeoutMs: 1_000 }),
    ).resolves.toEqual({ caller: `user:${otherUserId}` });
  });
});
