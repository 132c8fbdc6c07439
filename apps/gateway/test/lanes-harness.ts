import { randomBytes } from 'node:crypto';

import type { Type } from '@nestjs/common';

import type { AuditRecord, PluginStatusEntry } from '@vivified/contracts';
import { buckets, dynamicSubjects, streams, VivifiedError } from '@vivified/contracts';
import { StaticKekProvider } from '@vivified/crypto';
import { connectNats, ensureBucket, ensureStream } from '@vivified/nats-transport';
import type { AdminRule, BundleSigningKeys } from '@vivified/policy-engine';
import { bundleSigningKeys, bundleSigningPurpose, signBundle } from '@vivified/policy-engine';
import { POLICY_BUNDLE_KEY, PolicySidecar } from '@vivified/policy-sidecar';
import type { RunningService } from '@vivified/service-kit';
import type { TestNatsServer } from '@vivified/testing';
import { startNatsServer, TestAuthority, waitFor } from '@vivified/testing';
import type { NatsConnection } from 'nats';
import { expect } from 'vitest';

import { startGatewayInProcess } from './gateway-in-process';
import { PluginDirectory } from '../src/lanes/plugin-directory';

/**
 * The gateway in this process on a NATS server of its own, with TestAuthority standing in for identity and the
 * registry, and the policy bundle signed here with the key every service derives from the KEK (ADR-0006).
 */
export class LanesHarness {
  nc!: NatsConnection;
  authority!: TestAuthority;
  gateway!: RunningService;
  base!: string;
  private keys!: BundleSigningKeys;
  private version = 0;
  private readonly connections: NatsConnection[] = [];

  private constructor(readonly nats: TestNatsServer) {}

  /**
   * Starts the gateway as `main.ts` does (`gatewayHttp`: the edge's global filter, the HTTP setup); `module`
   * replaces the root module (a test module that imports {@link GatewayModule} and adds handlers of its own).
   */
  static async start(
    env: Record<string, string> = {},
    options: { module?: Type<unknown> } = {},
  ): Promise<LanesHarness> {
    const harness = new LanesHarness(await startNatsServer());
    const kek = `v1:${randomBytes(32).toString('base64')}`;
    harness.keys = bundleSigningKeys(await new StaticKekProvider(kek).hashKey(bundleSigningPurpose));
    ({ nc: harness.nc } = await connectNats({ servers: [harness.nats.url], name: 'lanes-test' }));
    await ensureStream(await harness.nc.jetstreamManager(), streams.audit);
    await ensureBucket(harness.nc, buckets.plugins);
    await ensureBucket(harness.nc, buckets.policy);
    harness.authority = await TestAuthority.create(harness.nc);
    ({ gateway: harness.gateway, base: harness.base } = await startGatewayInProcess(
      {
        VIVIFIED_NATS_URL: harness.nats.url,
        VIVIFIED_KEK: kek,
        VIVIFIED_LOG_LEVEL: process.env['LANES_LOG'] ?? 'silent',
        ...env,
      },
      { forget: Object.keys(env), ...(options.module ? { module: options.module } : {}) },
    ));

    return harness;
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.connections.map((nc) => nc.drain()));
    await this.gateway?.stop();
    await this.nc?.drain().catch(() => undefined);
    await this.nats.stop();
  }

  /** Publishes a signed bundle with these admin rules and waits until the gateway decides with it. */
  async rules(rules: AdminRule[]): Promise<void> {
    this.version += 1;
    const signed = signBundle(
      { version: this.version, createdAt: new Date().toISOString(), rules },
      this.keys,
    );
    await (await ensureBucket(this.nc, buckets.policy)).put(POLICY_BUNDLE_KEY, JSON.stringify(signed));
    const sidecar = this.gateway.app.get(PolicySidecar);
    const version = this.version;
    await waitFor(() => sidecar.bundleVersion === version, { timeoutMs: 5_000, what: 'the bundle in force' });
  }

  /** Writes an active plugin entry and waits until the lanes see it. */
  async plugin(entry: Partial<PluginStatusEntry> & Pick<PluginStatusEntry, 'id' | 'traits'>): Promise<void> {
    const updatedAt = new Date().toISOString();
    await this.authority.putPlugin({ ...entry, updatedAt });
    const directory = this.gateway.app.get(PluginDirectory);
    await waitFor(() => directory.get(entry.id)?.updatedAt === updatedAt, {
      timeoutMs: 5_000,
      what: `plugin ${entry.id} in the directory`,
    });
  }

  /** A plugin token. */
  token(id: string, traits: readonly string[] = []): Promise<string> {
    return this.authority.token({ kind: 'plugin', id, traits });
  }

  /** A NATS connection of its own, acting as a plugin process. */
  async connection(name: string): Promise<NatsConnection> {
    const { nc } = await connectNats({ servers: [this.nats.url], name });
    this.connections.push(nc);

    return nc;
  }

  /**
   * Audit records of one category published so far: single records on the category's subject, and those an
   * emitter under load sent together in one `{"records":[…]}` message.
   */
  async auditRecords(category: string): Promise<AuditRecord[]> {
    const jsm = await this.nc.jetstreamManager();
    const info = await jsm.streams.info(streams.audit.name);
    const records: AuditRecord[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq += 1) {
      const message = await jsm.streams.getMessage(streams.audit.name, { seq }).catch(() => undefined);
      if (message?.subject === dynamicSubjects.auditRecord(category)) {
        records.push(message.json<AuditRecord>());
      } else if (message) {
        const batch = message.json<{ records?: unknown }>();
        if (Array.isArray(batch.records)) {
          records.push(...(batch.records as AuditRecord[]).filter((record) => record.category === category));
        }
      }
    }

    return records;
  }
}

/** The typed error a promise rejects with. */
export async function rejection(promise: Promise<unknown>): Promise<VivifiedError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(VivifiedError);

  return error as VivifiedError;
}
