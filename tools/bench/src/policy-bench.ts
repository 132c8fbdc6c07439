// In-process benchmark of the policy engine: decisions per second and latency, cache hit and miss (issue 4).
// Run after `npm run build`: `node tools/bench/dist/policy-bench.js`. Knobs: BENCH_POLICY_MS (default 2000).
import type { AdminRule, PolicyBundle, PolicyInput } from '@vivified/policy-engine';
import { CachedPolicyEngine, PolicyEngine } from '@vivified/policy-engine';

import type { LatencyStats } from './stats';
import { latencyStats, quantile } from './stats';

const WINDOW_MS = Number(process.env.BENCH_POLICY_MS ?? 2_000);
const SAMPLES = 200_000;

const ADMIN = [
  'admin',
  'user_manager',
  'plugin_manager',
  'config_manager',
  'audit_viewer',
  'system_monitor',
  'viewer',
  'ui.admin',
  'ui.automations',
  'ui.config',
  'ui.plugins',
  'ui.audit',
  'ui.users',
  'ui.monitoring',
  'ui.gateway',
  'ui.messaging',
  'ui.canonical',
  'ui.policy',
  'ui.register',
  'ui.storage',
  'ui.jobs',
  'ui.dashboard',
];
const PHI = [
  'handles_phi',
  'audit_required',
  'encryption_required',
  'hipaa_compliant',
  'communication_plugin',
];
const PII = ['handles_pii', 'audit_required', 'gdpr_compliant', 'external_service', 'communication_plugin'];

/** A bundle of the size a busy installation has: 200 operator rules, 100 proxy approvals, 10 grants. */
function bigBundle(): PolicyBundle {
  const rules: AdminRule[] = [];
  for (let i = 0; i < 200; i += 1) {
    rules.push({
      type: 'operator',
      caller: `caller-${i}`,
      target: `target-${i % 50}`,
      operations: ['get_user', 'list_users', `op-${i}`],
    });
  }
  for (let i = 0; i < 100; i += 1) {
    rules.push({
      type: 'proxy',
      plugin: `caller-${i}`,
      domains: [`api${i}.example.org`, `*.svc${i}.example.net`],
    });
  }
  for (let i = 0; i < 10; i += 1) {
    rules.push({
      type: 'break_glass',
      id: `inc-${i}`,
      principalId: `grant-user-${i}`,
      classifications: ['phi'],
      expiresAt: '2099-01-01T00:00:00Z',
      startsAt: '2098-12-31T12:00:00Z',
      reason: 'bench',
    });
  }

  return { version: 42, createdAt: '2026-01-01T00:00:00Z', rules };
}

/** A realistic mix: user administration, PHI/PII events, operator calls, proxy requests, UI gating. */
function inputAt(i: number, unique: number): PolicyInput {
  const id = `${unique}`;
  switch (i % 6) {
    case 0:
      return {
        action: 'identity.user.create',
        principal: { kind: 'user', id: `u-${id}`, traits: ADMIN, status: 'active' },
        resource: { type: 'users' },
        classification: ['pii'],
      };
    case 1:
      return {
        action: 'events.publish',
        principal: { kind: 'plugin', id: `ehr-${id}`, traits: PHI, status: 'active' },
        resource: { type: 'events' },
        classification: ['phi'],
      };
    case 2:
      return {
        action: 'rpc.call',
        principal: { kind: 'plugin', id: `caller-${i % 200}`, traits: PII, status: 'active' },
        resource: { type: 'rpc', id: id },
        classification: ['pii'],
        source: { pluginId: `caller-${i % 200}`, traits: PII },
        target: { pluginId: `target-${i % 50}`, traits: ['communication_plugin'] },
        context: { operation: 'get_user', traceId: id },
      };
    case 3:
      return {
        action: 'proxy.request',
        principal: { kind: 'plugin', id: `caller-${i % 100}`, traits: PII, status: 'active' },
        resource: { type: 'proxy', id },
        classification: ['internal'],
        context: { domain: `api${i % 100}.example.org` },
      };
    case 4:
      return {
        action: 'ui_feature.view',
        principal: { kind: 'user', id: `u-${id}`, traits: ADMIN, status: 'active' },
        resource: { type: 'ui_feature', id: 'ui.config' },
        classification: [],
      };
    default:
      return {
        action: 'identity.user.read',
        principal: { kind: 'user', id: `u-${id}`, traits: ADMIN, status: 'active' },
        resource: { type: 'users', id },
        classification: ['phi'],
      };
  }
}

/** Latency figures with the far tail, in microseconds. */
interface Tail extends LatencyStats {
  p999: number;
  max: number;
}

interface Row {
  name: string;
  rate: number;
  latency: Tail;
}

/** Decisions per second over the window, calling `decide` on the inputs in turn. */
function throughput(decide: (input: PolicyInput) => unknown, inputs: readonly PolicyInput[]): number {
  const deadline = process.hrtime.bigint() + BigInt(WINDOW_MS) * 1_000_000n;
  let count = 0;
  let sink = 0;
  const started = process.hrtime.bigint();
  while (process.hrtime.bigint() < deadline) {
    for (let i = 0; i < 1_000; i += 1) {
      sink ^= decide(inputs[(count + i) % inputs.length]) === undefined ? 1 : 0;
    }
    count += 1_000;
  }
  if (sink === 42) {
    console.log('');
  }

  return count / (Number(process.hrtime.bigint() - started) / 1e9);
}

/** Latency of single calls, each timed on its own. */
function latency(decide: (input: PolicyInput) => unknown, inputs: readonly PolicyInput[]): Tail {
  const samples: bigint[] = new Array<bigint>(Math.min(SAMPLES, inputs.length));
  for (let i = 0; i < samples.length; i += 1) {
    const input = inputs[i];
    const started = process.hrtime.bigint();
    decide(input);
    samples[i] = process.hrtime.bigint() - started;
  }
  const sorted = samples.map((ns) => Number(ns) / 1_000).sort((a, b) => a - b);

  return { ...latencyStats(samples), p999: quantile(sorted, 0.999), max: sorted[sorted.length - 1] };
}

function timerOverhead(): LatencyStats {
  const samples: bigint[] = [];
  for (let i = 0; i < 100_000; i += 1) {
    const started = process.hrtime.bigint();
    samples.push(process.hrtime.bigint() - started);
  }

  return latencyStats(samples);
}

function main(): void {
  const bundle = bigBundle();
  const engine = new PolicyEngine(bundle);
  const hot = Array.from({ length: 1_000 }, (_, i) => inputAt(i, i));
  const cold = Array.from({ length: SAMPLES }, (_, i) => inputAt(i, i));
  const rows: Row[] = [];

  // warm the JIT on a separate set so that no measured input is cached
  const warm = new CachedPolicyEngine(engine, { maxEntries: 10_000 });
  for (let round = 0; round < 20; round += 1) {
    for (const input of Array.from({ length: 5_000 }, (_, i) => inputAt(i, 10_000_000 + round * 5_000 + i))) {
      engine.decide(input);
      warm.decide(input);
      warm.decide(input);
    }
  }

  rows.push({
    name: 'engine, no cache (every call evaluates)',
    rate: throughput((input) => engine.decide(input), cold),
    latency: latency((input) => engine.decide(input), cold),
  });

  const missing = new CachedPolicyEngine(engine, { maxEntries: 10_000 });
  const misses = Array.from({ length: SAMPLES }, (_, i) => inputAt(i, 20_000_000 + i));
  rows.push({
    name: 'cache miss (key + evaluate + insert)',
    rate: 0,
    latency: latency((input) => missing.decide(input), misses),
  });
  // cycling through 200,000 distinct inputs with room for 10,000 makes every call a miss
  const missRate = new CachedPolicyEngine(engine, { maxEntries: 10_000 });
  rows[1].rate = throughput((input) => missRate.decide(input), misses);

  const hitting = new CachedPolicyEngine(engine, { maxEntries: 10_000 });
  for (const input of hot) {
    hitting.decide(input);
  }
  rows.push({
    name: 'cache hit (1,000 hot inputs)',
    rate: throughput((input) => hitting.decide(input), hot),
    latency: latency(
      (input) => hitting.decide(input),
      Array.from({ length: SAMPLES }, (_, i) => hot[i % hot.length]),
    ),
  });

  const overhead = timerOverhead();
  console.log(
    `Vivified policy engine benchmark — node ${process.version}, bundle of ${bundle.rules.length} rules, ${WINDOW_MS} ms windows`,
  );
  console.log('\n| path | decisions/s | p50 µs | p99 µs | p99.9 µs | max µs | mean µs |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const row of rows) {
    console.log(
      `| ${row.name} | ${Math.round(row.rate).toLocaleString('en-US')} | ${row.latency.p50.toFixed(2)} | ${row.latency.p99.toFixed(2)} | ${row.latency.p999.toFixed(2)} | ${row.latency.max.toFixed(0)} | ${row.latency.mean.toFixed(2)} |`,
    );
  }
  console.log(
    `\nTimer overhead per sample (included above): p50 ${overhead.p50.toFixed(2)} µs, p99 ${overhead.p99.toFixed(2)} µs.`,
  );
  const hit = rows[2];
  const miss = rows[1];
  console.log(
    `Targets: ≥ 1,000,000 decisions/s on a hit (${hit.rate >= 1_000_000 ? 'met' : 'NOT met'}), p99 ≤ 20 µs on a miss (${miss.latency.p99 <= 20 ? 'met' : 'NOT met'}).`,
  );
  console.log(`Cache stats of the hit run: ${JSON.stringify(hitting.stats())}`);
}

main();
