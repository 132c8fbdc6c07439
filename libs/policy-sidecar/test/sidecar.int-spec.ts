import 'reflect-metadata';

import { randomBytes, randomUUID } from 'node:crypto';

import type { INestMicroservice } from '@nestjs/common';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, Payload } from '@nestjs/microservices';
import { JwksKeyStore, TokenVerifier } from '@vivified/auth';
import type { JwksEntry, PluginStatus } from '@vivified/contracts';
import {
  buckets,
  defineRpc,
  dynamicSubjects,
  ErrorCode,
  streams,
  tokenContract,
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
import type { BundleSigningKeys, PolicyBundle } from '@vivified/policy-engine';
import { bundleSigningKeys, signBundle } from '@vivified/policy-engine';
import type {
  DecisionAuditInput,
  DecisionAuditSink,
  PolicySidecarMetrics,
  RunningPolicySidecar,
} from '@vivified/policy-sidecar';
import { startPolicySidecar } from '@vivified/policy-sidecar';
import type { TestNatsServer } from '@vivified/testing';
import { readAuditStream, startNatsServer, uniqueName, waitFor } from '@vivified/testing';
import { IsString } from 'class-validator';
import type { CryptoKey } from 'jose';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { JetStreamClient, KV, NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const prefix = uniqueName('t').replace(/_/g, '-');

class CallRequest {
  @IsString()
  target!: string;

  @IsString()
  operation!: string;
}

class CallReply {
  caller!: string;
}

/** An operator-lane call, as the gateway will serve it: allowed only by an admin rule of the bundle. */
const laneCall = defineRpc({
  subject: `${prefix}.rpc.call`,
  request: CallRequest,
  reply: CallReply,
  access: { action: 'gateway.rpc.call', kinds: ['plugin', 'service'] },
  summary: 'an operator-lane test handler',
});

@Controller()
class LaneHandlers {
  @Handle(laneCall)
  call(@Payload() _body: CallRequest, @Ctx() ctx: NatsRequestContext): CallReply {
    return { caller: `${ctx.principal?.kind}:${ctx.principal?.id}` };
  }
}

@Module({ controllers: [LaneHandlers] })
class LaneModule {}

/**
 * Publishes decision records to VIVIFIED_AUDIT with ack, as service-kit's AuditEmitter does (service-kit mounts
 * this lib, so its tests cannot import it back; the bootstrap wiring is tested in libs/service-kit/test).
 */
class StreamAudit implements DecisionAuditSink {
  constructor(private readonly js: JetStreamClient) {}

  async emit(input: DecisionAuditInput): Promise<{ id: string }> {
    const record = {
      ...input,
      id: randomUUID(),
      ts: new Date().toISOString(),
      phiInvolved: input.classification.includes('phi'),
      service: 'policy',
    };
    await this.js.publish(dynamicSubjects.auditRecord(record.category), JSON.stringify(record), {
      msgID: record.id,
    });

    return record;
  }
}

class Metrics implements PolicySidecarMetrics {
  readonly decisions = new Map<string, number>();
  readonly rejected = new Map<string, number>();
  readonly durations: number[] = [];
  version = -1;

  policyDecision(effect: string, rule: string, seconds: number): void {
    const key = `${effect}/${rule}`;
    this.decisions.set(key, (this.decisions.get(key) ?? 0) + 1);
    this.durations.push(seconds);
  }
  setPolicyBundleVersion(version: number): void {
    this.version = version;
  }
  policyBundleRejected(reason: string): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
  }
}

async function rejection(promise: Promise<unknown>): Promise<VivifiedError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(VivifiedError);

  return error as VivifiedError;
}

function bundle(version: number, rules: PolicyBundle['rules']): PolicyBundle {
  return { version, createdAt: new Date().toISOString(), rules };
}

const allowInvoices: PolicyBundle['rules'] = [
  { type: 'operator', caller: 'crm', target: 'billing', operations: ['get_invoice'] },
];

describe('policy sidecar on the NATS transport (nats-server)', () => {
  const signing: BundleSigningKeys = bundleSigningKeys(randomBytes(32));
  const metrics = new Metrics();
  let nats: TestNatsServer;
  let nc: NatsConnection;
  let serviceNc: NatsConnection;
  let keyStore: JwksKeyStore;
  let policy: RunningPolicySidecar;
  let app: INestMicroservice;
  let caller: VivifiedClient;
  let policyKv: KV;
  let pluginsKv: KV;
  let crmToken: string;

  const call = () =>
    caller.requestRaw(laneCall.subject, { target: 'billing', operation: 'get_invoice' }, { token: crmToken });

  const putPlugin = (status: PluginStatus) =>
    pluginsKv.put(
      'crm',
      JSON.stringify({
        id: 'crm',
        status,
        traits: ['viewer'],
        version: '1.0.0',
        manifestDigest: 'cd'.repeat(32),
        updatedAt: new Date().toISOString(),
      }),
    );

  beforeAll(async () => {
    nats = await startNatsServer();
    ({ nc } = await connectNats({ servers: nats.url, name: 'sidecar-test-caller' }));
    ({ nc: serviceNc } = await connectNats({ servers: nats.url, name: 'sidecar-test-service' }));
    // identity's keys, registry's plugin bucket, the policy bucket and the audit stream stand in for the services
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true });
    const kid = `k-${randomUUID()}`;
    const entry: JwksEntry = {
      kty: 'OKP',
      crv: 'Ed25519',
      x: (await exportJWK(publicKey)).x as string,
      kid,
      alg: 'EdDSA',
      use: 'sig',
      createdAt: new Date().toISOString(),
    };
    await (await ensureBucket(nc, buckets.jwks)).put(kid, JSON.stringify(entry));
    pluginsKv = await ensureBucket(nc, buckets.plugins);
    await putPlugin('active');
    policyKv = await ensureBucket(nc, buckets.policy);
    await ensureStream(await nc.jetstreamManager(), streams.audit);
    crmToken = await pluginToken(kid, privateKey, 'crm');

    keyStore = new JwksKeyStore(serviceNc);
    await keyStore.start();
    policy = await startPolicySidecar(serviceNc, {
      verifier: new TokenVerifier({ keys: keyStore }),
      publicKey: signing.publicKey,
      audit: new StreamAudit(serviceNc.jetstream()),
      metrics,
    });
    policy.sidecar.enrich('gateway.rpc.call', (input, context) => {
      const body = context.payload as CallRequest;

      return {
        ...input,
        source: { pluginId: input.principal.id, traits: input.principal.traits },
        target: { pluginId: body.target, traits: [] },
        context: { operation: body.operation },
      };
    });
    app = await NestFactory.createMicroservice(LaneModule, {
      strategy: new NatsTransport({ connection: serviceNc, queue: `${prefix}-lane`, guard: policy.sidecar }),
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

  it('decides with the built-in rules until a bundle arrives: the lane call is not allowlisted', async () => {
    const error = await rejection(call());

    expect(error.code).toBe(ErrorCode.PolicyDenied);
    expect(error.reason).toBe('operation_not_allowlisted');
    expect(metrics.version).toBe(0);
  });

  it('audits the deny on the audit stream under the id the caller got', async () => {
    const error = await rejection(call());

    const records = await readAuditStream(nc);
    const record = records.find((candidate) => candidate.id === error.auditId);

    expect(error.auditId).toMatch(/^[0-9a-f-]{36}$/);
    expect(record).toMatchObject({
      subject: dynamicSubjects.auditRecord('policy'),
      category: 'policy',
      action: 'policy.decide',
      outcome: 'denied',
      actor: { kind: 'plugin', id: 'plugin:crm' },
      pluginId: 'crm',
      details: {
        action: 'gateway.rpc.call',
        effect: 'deny',
        ruleId: 'operator_allowlist',
        reason: 'operation_not_allowlisted',
        bundleVersion: 0,
      },
    });
    expect(JSON.stringify(record)).not.toContain('get_invoice');
    expect(JSON.stringify(record)).not.toContain(crmToken);
  });

  it('puts a signed bundle in force within a second: the operator rule it adds opens the call', async () => {
    const started = Date.now();
    await policyKv.put('bundle', JSON.stringify(signBundle(bundle(1, allowInvoices), signing)));

    const reply = await waitFor(() => call().catch(() => undefined), {
      what: 'the new bundle to allow the call',
      timeoutMs: 1_000,
      intervalMs: 20,
    });

    expect(Date.now() - started).toBeLessThan(1_000);
    expect(reply).toEqual({ caller: 'plugin:crm' });
    expect(metrics.version).toBe(1);
    expect(policy.bundles.version).toBe(1);
    // the earlier tests' two denies, plus any poll that ran before the bundle was in force
    expect(metrics.decisions.get('deny/operator_allowlist')).toBeGreaterThanOrEqual(2);
    expect(metrics.decisions.get('allow/operator_allowlist')).toBeGreaterThanOrEqual(1);
    // a local decision: well under a quarter of a second even on a loaded 2-core machine
    expect(metrics.durations.every((seconds) => seconds >= 0 && seconds < 0.25)).toBe(true);
  });

  it('ignores a forged bundle: counted, and the signed one stays in force', async () => {
    const forger = bundleSigningKeys(randomBytes(32));
    const tampered = { ...signBundle(bundle(2, allowInvoices), signing), bundle: bundle(2, []) };

    await policyKv.put('bundle', JSON.stringify(signBundle(bundle(3, []), forger)));
    await policyKv.put('bundle', JSON.stringify(tampered));
    await waitFor(() => metrics.rejected.size >= 2, {
      what: 'both forged bundles to be rejected',
      timeoutMs: 1_000,
      intervalMs: 20,
    });

    expect(Object.fromEntries(metrics.rejected)).toEqual({ key_id: 1, signature: 1 });
    expect(metrics.version).toBe(1);
    expect(policy.sidecar.bundleVersion).toBe(1);
    await expect(call()).resolves.toEqual({ caller: 'plugin:crm' });
  });

  it('refuses a plugin within a second of the registry disabling it, and serves it again once enabled', async () => {
    const started = Date.now();
    await putPlugin('disabled');

    const error = await waitFor(
      () =>
        call().then(
          () => undefined,
          (thrown: unknown) => thrown as VivifiedError,
        ),
      { what: 'the disabled plugin to be refused', timeoutMs: 1_000, intervalMs: 20 },
    );

    expect(Date.now() - started).toBeLessThan(1_000);
    expect(error.code).toBe(ErrorCode.PluginInactive);
    expect(error.reason).toBe('plugin_disabled');
    expect(error.auditId).toBeDefined();

    await putPlugin('active');
    await expect(
      waitFor(() => call().catch(() => undefined), {
        what: 'the plugin to be served again',
        timeoutMs: 1_000,
      }),
    ).resolves.toEqual({ caller: 'plugin:crm' });
  });

  it('refuses a plugin the registry removed', async () => {
    await pluginsKv.delete('crm');

    const error = await waitFor(
      () =>
        call().then(
          () => undefined,
          (thrown: unknown) => thrown as VivifiedError,
        ),
      { what: 'the removed plugin to be refused', timeoutMs: 1_000, intervalMs: 20 },
    );

    expect(error.code).toBe(ErrorCode.PluginInactive);
    expect(error.reason).toBe('plugin_unknown');
  });
});

async function pluginToken(kid: string, privateKey: CryptoKey, pluginId: string): Promise<string> {
  return new SignJWT({ typ: 'plugin', traits: ['handles_phi'] })
    .setProtectedHeader({ alg: 'EdDSA', kid })
    .setIssuer(tokenContract.issuer)
    .setAudience(tokenContract.audience)
    .setSubject(`plugin:${pluginId}`)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime('15m')
    .sign(privateKey);
}

describe('plugin status and bundle stores whose buckets appear after the start (nats-server)', () => {
  let nats: TestNatsServer;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startNatsServer();
    ({ nc } = await connectNats({ servers: nats.url, name: 'sidecar-late-buckets' }));
  });

  afterAll(async () => {
    await nc?.drain().catch(() => undefined);
    await nats?.stop();
  });

  it('knows no plugin and keeps the empty bundle until the buckets exist, then follows them', async () => {
    const signing = bundleSigningKeys(randomBytes(32));
    const metrics = new Metrics();
    const started = Date.now();
    const running = await startPolicySidecar(nc, {
      verifier: { verify: () => Promise.reject(new Error('not used')) },
      publicKey: signing.publicKey,
      audit: { emit: () => Promise.resolve({ id: randomUUID() }) },
      metrics,
    });
    try {
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(running.plugins.get('crm')).toBeUndefined();
      expect(running.bundles.version).toBe(0);

      const plugins = await ensureBucket(nc, buckets.plugins);
      await plugins.put(
        'crm',
        JSON.stringify({
          id: 'crm',
          status: 'active',
          traits: [],
          version: '1.0.0',
          manifestDigest: 'ef'.repeat(32),
          updatedAt: new Date().toISOString(),
        }),
      );
      await plugins.put('liar', JSON.stringify({ id: 'someone-else', status: 'active', traits: [] }));
      const policyKv = await ensureBucket(nc, buckets.policy);
      await policyKv.put('bundle', JSON.stringify(signBundle(bundle(4, allowInvoices), signing)));

      // the stores retry binding at most once a second
      await waitFor(() => running.plugins.get('crm')?.status === 'active' && running.bundles.version === 4, {
        what: 'the stores to bind the new buckets',
        timeoutMs: 3_000,
      });
      expect(running.plugins.get('liar')).toBeUndefined();
      expect(metrics.version).toBe(4);
    } finally {
      await running.stop();
    }
  });
});
