// Operator-lane round trip beside raw NATS request/reply in the same run, at a fixed rate (issue 8), and beside two
// bare forwarders in a process of their own (bare-rpc-forwarder.ts): the hop alone, and the hop with the lane's
// wire format (a call token signed per call, `traceparent`) but no checks — the floor any lane of this contract has.
// Run after `npm run build`: `node tools/bench/dist/lanes-bench.js` (it starts nats-server and the built gateway,
// apps/gateway/dist/main.js, as a child process). Knobs: BENCH_LANE_RATE (calls/s, default 1000),
// BENCH_LANE_MS (per round, default 5000), BENCH_ROUNDS (default 3), BENCH_HTTP_MS (HTTP throughput window,
// default 5000), BENCH_HTTP_CONCURRENCY (requests in flight, default 32).
//
// Last, HTTP API throughput with JWT + policy: `POST /v1/rpc/bench-target/echo` with a plugin's bearer token (token
// check, rate limit, policy, call token, forward), closed loop, beside raw NATS request/reply at the same
// concurrency.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

import { buckets, dynamicSubjects, headers as headerNames, opsPortEnv, streams } from '@vivified/contracts';
import { StaticKekProvider } from '@vivified/crypto';
import { connectNats, ensureBucket, ensureStream } from '@vivified/nats-transport';
import { bundleSigningKeys, bundleSigningPurpose, signBundle } from '@vivified/policy-engine';
import { freePort, startNatsServer, TestAuthority, waitFor } from '@vivified/testing';
import type { NatsConnection } from 'nats';
import { headers as natsHeaders } from 'nats';
import { Pool } from 'undici';

import type { LatencyStats } from './stats';
import { cpuMicros, latencyStats } from './stats';
import { serviceNodeArgs } from './service-process';

const RATE = Number(process.env['BENCH_LANE_RATE'] ?? 1_000);
const ROUND_MS = Number(process.env['BENCH_LANE_MS'] ?? 5_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const ROOT = join(__dirname, '..', '..', '..');
const CALLER = 'bench-caller';
const TARGET = 'bench-target';
const HTTP_MS = Number(process.env['BENCH_HTTP_MS'] ?? 5_000);
const HTTP_CONCURRENCY = Number(process.env['BENCH_HTTP_CONCURRENCY'] ?? 32);
const PAYLOAD = new TextEncoder().encode(JSON.stringify({ id: 'u-1', fields: ['name', 'status'], n: 42 }));

interface Paced {
  samples: bigint[];
  errors: number;
  achievedRate: number;
}

/** Open loop: calls start on a fixed schedule whatever the replies do, so queueing shows in the tail. */
async function paced(call: () => Promise<unknown>, rate: number, durationMs: number): Promise<Paced> {
  const total = Math.round((rate * durationMs) / 1000);
  const interval = 1_000_000_000n / BigInt(rate);
  const samples: bigint[] = [];
  const inFlight: Array<Promise<void>> = [];
  let errors = 0;
  const start = process.hrtime.bigint();
  let sent = 0;
  while (sent < total) {
    const now = process.hrtime.bigint();
    while (sent < total && start + BigInt(sent) * interval <= now) {
      const begun = process.hrtime.bigint();
      inFlight.push(
        call().then(
          () => {
            samples.push(process.hrtime.bigint() - begun);
          },
          () => {
            errors += 1;
          },
        ),
      );
      sent += 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;

  return { samples, errors, achievedRate: total / seconds };
}

async function startGateway(env: Record<string, string>, opsPort: number): Promise<ChildProcess> {
  // BENCH_GATEWAY_NODE_ARGS: extra node flags for the gateway (e.g. --cpu-prof)
  const nodeArgs = serviceNodeArgs('BENCH_GATEWAY_NODE_ARGS');
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'apps', 'gateway', 'dist', 'main.js')], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'], ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitFor(
    async () => (await fetch(`http://127.0.0.1:${opsPort}/health/ready`).catch(() => undefined))?.ok === true,
    { timeoutMs: 30_000, what: 'the gateway to be ready' },
  );

  return child;
}

/** One call at a time, `count` times: the latency of each without any queueing. */
async function sequential(call: () => Promise<unknown>, count: number): Promise<bigint[]> {
  const samples: bigint[] = [];
  for (let i = 0; i < count; i += 1) {
    const begun = process.hrtime.bigint();
    await call();
    samples.push(process.hrtime.bigint() - begun);
  }

  return samples;
}

/** Closed loop: `concurrency` callers, each starting its next call when the last ends; resolves calls/s. */
async function closedLoop(
  call: () => Promise<unknown>,
  concurrency: number,
  durationMs: number,
): Promise<number> {
  const end = performance.now() + durationMs;
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await call();
        done += 1;
      }
    }),
  );

  return done / ((performance.now() - started) / 1000);
}

function fmt(stats: LatencyStats): string {
  return `p50 ${stats.p50.toFixed(0).padStart(6)} µs   p99 ${stats.p99.toFixed(0).padStart(6)} µs`;
}

async function main(): Promise<void> {
  const nats = await startNatsServer();
  let gateway: ChildProcess | undefined;
  let forwarder: ChildProcess | undefined;
  const connections: NatsConnection[] = [];
  try {
    const connect = async (name: string) => {
      const { nc } = await connectNats({ servers: [nats.url], name });
      connections.push(nc);

      return nc;
    };
    const admin = await connect('bench-admin');
    await ensureStream(await admin.jetstreamManager(), streams.audit);
    await ensureBucket(admin, buckets.plugins);
    const policy = await ensureBucket(admin, buckets.policy);
    const authority = await TestAuthority.create(admin);
    const kek = `v1:${randomBytes(32).toString('base64')}`;
    const keys = bundleSigningKeys(await new StaticKekProvider(kek).hashKey(bundleSigningPurpose));
    await authority.putPlugin({ id: CALLER, traits: [] });
    await authority.putPlugin({
      id: TARGET,
      traits: [],
      operations: [{ name: 'echo', description: 'echo', requiredTraits: [], classification: ['internal'] }],
    });
    const bundle = signBundle(
      {
        version: 1,
        createdAt: new Date().toISOString(),
        rules: [{ type: 'operator', caller: CALLER, target: TARGET, operations: ['echo'] }],
      },
      keys,
    );
    await policy.put('bundle', JSON.stringify(bundle));

    const opsPort = await freePort();
    const httpPort = await freePort();
    gateway = await startGateway(
      {
        VIVIFIED_NATS_URL: nats.url,
        VIVIFIED_KEK: kek,
        VIVIFIED_LOG_LEVEL: 'warn',
        [opsPortEnv('gateway')]: String(opsPort),
        VIVIFIED_GATEWAY_HTTP_PORT: String(httpPort),
        // the throughput phase sends far more than a plugin's default 600 requests per minute
        VIVIFIED_GATEWAY_RATE_LIMIT: '100000000',
      },
      opsPort,
    );

    // the target plugin process: the lane's forward and the raw subject answer alike, on one connection
    const target = await connect('bench-target');
    target.subscribe(dynamicSubjects.pluginRpc(TARGET, 'echo'), {
      callback: (_e, msg) => msg.respond(msg.data),
    });
    const rawSubject = dynamicSubjects.pluginRpc('bench-raw', 'echo');
    target.subscribe(rawSubject, { callback: (_e, msg) => msg.respond(msg.data) });
    await target.flush();

    // the floor of any mediating hop: bare forwarders with no checks at all, in a process of their own
    const bareSubject = dynamicSubjects.pluginRpc('bench-bare', 'echo');
    const bareContractSubject = dynamicSubjects.pluginRpc('bench-bare-contract', 'echo');
    forwarder = spawn(
      process.execPath,
      [...serviceNodeArgs('BENCH_GATEWAY_NODE_ARGS'), join(__dirname, 'bare-rpc-forwarder.js')],
      {
        env: {
          ...process.env,
          BARE_NATS_URL: nats.url,
          BARE_HOPS_SUBJECT: bareSubject,
          BARE_CONTRACT_SUBJECT: bareContractSubject,
          BARE_TARGET_SUBJECT: rawSubject,
        },
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      },
    );
    const bareProcess = forwarder;
    await new Promise<void>((resolve, reject) => {
      bareProcess.once('message', () => resolve());
      bareProcess.once('exit', (code) => reject(new Error(`bare forwarder exited with ${code}`)));
    });

    const caller = await connect('bench-caller');
    const token = await authority.token({ kind: 'plugin', id: CALLER, traits: [] });
    const laneHeaders = () => {
      const hdrs = natsHeaders();
      hdrs.set(headerNames.authorization, `Bearer ${token}`);

      return hdrs;
    };
    const laneSubject = dynamicSubjects.rpcCall(TARGET, 'echo');
    const raw = () => caller.request(rawSubject, PAYLOAD, { timeout: 5_000 });
    const bare = () => caller.request(bareSubject, PAYLOAD, { timeout: 5_000 });
    const bareContract = () =>
      caller.request(bareContractSubject, PAYLOAD, { timeout: 5_000, headers: laneHeaders() });
    const lane = async () => {
      const reply = await caller.request(laneSubject, PAYLOAD, { timeout: 5_000, headers: laneHeaders() });
      if (reply.headers?.get(headerNames.errorCode)) {
        throw new Error(`lane error ${reply.headers.get(headerNames.error)}`);
      }
    };
    // the gateway learns the plugins, key and bundle from KV: wait until a call goes through
    await waitFor(
      () =>
        lane().then(
          () => true,
          () => false,
        ),
      { timeoutMs: 10_000, what: 'a first lane call' },
    );

    // warm up every path (JIT, caches)
    const paths = { raw, bare, bareContract, lane };
    for (const call of Object.values(paths)) {
      await paced(call, RATE, 1_000);
    }
    const open = {
      raw: [] as bigint[],
      bare: [] as bigint[],
      bareContract: [] as bigint[],
      lane: [] as bigint[],
    };
    const errors = { raw: 0, bare: 0, bareContract: 0, lane: 0 };
    const rates: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const [name, call] of Object.entries(paths) as Array<
        [keyof typeof paths, () => Promise<unknown>]
      >) {
        const result = await paced(call, RATE, ROUND_MS);
        open[name].push(...result.samples);
        errors[name] += result.errors;
        rates.push(result.achievedRate);
      }
    }
    // one call at a time: the latency each path adds without any queueing, and the mediator's CPU per call
    const seqRaw = latencyStats(await sequential(raw, 2_000));
    const seqBare = latencyStats(await sequential(bare, 2_000));
    const bareCpuBefore = cpuMicros(bareProcess.pid);
    const seqBareContract = latencyStats(await sequential(bareContract, 2_000));
    const bareCpuPerCall = (cpuMicros(bareProcess.pid) - bareCpuBefore) / 2_000;
    const cpuBefore = cpuMicros(gateway.pid);
    const seqLane = latencyStats(await sequential(lane, 2_000));
    const cpuPerCall = (cpuMicros(gateway.pid) - cpuBefore) / 2_000;
    const rawStats = latencyStats(open.raw);
    const laneStats = latencyStats(open.lane);
    const added = (stats: LatencyStats) =>
      `p50 +${((stats.p50 - rawStats.p50) / 1000).toFixed(3)} ms   p99 +${((stats.p99 - rawStats.p99) / 1000).toFixed(3)} ms`;
    console.log(
      `Operator lane vs raw NATS request/reply — nats-server ${admin.info?.version}, node ${process.version}, ` +
        `${RATE} calls/s open loop, ${ROUNDS} × ${ROUND_MS} ms per path (achieved ${Math.min(...rates).toFixed(0)}–${Math.max(...rates).toFixed(0)} calls/s)`,
    );
    console.log(`raw request/reply      ${fmt(rawStats)}   errors ${errors.raw}`);
    console.log(
      `bare hop               ${fmt(latencyStats(open.bare))}   errors ${errors.bare}   added ${added(latencyStats(open.bare))}`,
    );
    console.log(
      `bare hop, lane format  ${fmt(latencyStats(open.bareContract))}   errors ${errors.bareContract}   ` +
        `added ${added(latencyStats(open.bareContract))}   (call token signed per call, no checks: the floor)`,
    );
    console.log(`operator lane          ${fmt(laneStats)}   errors ${errors.lane}`);
    console.log(`sequential raw         ${fmt(seqRaw)}`);
    console.log(`sequential bare hop    ${fmt(seqBare)}`);
    console.log(
      `sequential bare, lane format ${fmt(seqBareContract)}   forwarder CPU ${bareCpuPerCall.toFixed(0)} µs per call`,
    );
    console.log(`sequential lane        ${fmt(seqLane)}   gateway CPU ${cpuPerCall.toFixed(0)} µs per call`);
    // HTTP API with JWT + policy, closed loop, beside raw NATS request/reply at the same concurrency
    const pool = new Pool(`http://127.0.0.1:${httpPort}`, { connections: HTTP_CONCURRENCY });
    const http = async () => {
      const response = await pool.request({
        method: 'POST',
        path: `/v1/rpc/${TARGET}/echo`,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: PAYLOAD,
      });
      await response.body.arrayBuffer();
      if (response.statusCode !== 200) {
        throw new Error(`HTTP ${response.statusCode}`);
      }
    };
    await closedLoop(http, HTTP_CONCURRENCY, 1_000);
    const seqHttp = latencyStats(await sequential(http, 1_000));
    const rawThroughput = await closedLoop(raw, HTTP_CONCURRENCY, HTTP_MS);
    const httpCpu = { gateway: cpuMicros(gateway.pid), bench: process.cpuUsage() };
    const httpStarted = performance.now();
    const httpThroughput = await closedLoop(http, HTTP_CONCURRENCY, HTTP_MS);
    const httpWallUs = (performance.now() - httpStarted) * 1000;
    const benchCpu = process.cpuUsage(httpCpu.bench);
    // share of one core each process used while the HTTP load ran: which side the figure is bound by
    const gatewayShare = (cpuMicros(gateway.pid) - httpCpu.gateway) / httpWallUs;
    const benchShare = (benchCpu.user + benchCpu.system) / httpWallUs;
    await pool.close();
    console.log(`added by the lane      ${added(laneStats)}   (targets: p50 ≤ +0.3 ms, p99 ≤ +1 ms)`);
    console.log(`sequential HTTP lane   ${fmt(seqHttp)}`);
    console.log(
      `HTTP API, JWT + policy ${httpThroughput.toFixed(0).padStart(6)} requests/s   raw NATS request/reply ` +
        `${rawThroughput.toFixed(0)}/s   ratio ${(httpThroughput / rawThroughput).toFixed(2)}   ` +
        `(${HTTP_CONCURRENCY} in flight, POST /v1/rpc/${TARGET}/echo with a plugin token)`,
    );
    console.log(
      `  while it ran: gateway ${(gatewayShare * 100).toFixed(0)} % of a core ` +
        `(${((gatewayShare * 1e6) / httpThroughput).toFixed(0)} µs per request), load generator and target ` +
        `${(benchShare * 100).toFixed(0)} % of a core`,
    );
  } finally {
    forwarder?.kill('SIGTERM');
    await Promise.allSettled(connections.map((nc) => nc.drain()));
    if (gateway && gateway.exitCode === null) {
      const exited = new Promise((resolve) => gateway?.once('exit', resolve));
      gateway.kill('SIGTERM');
      await exited;
    }
    await nats.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
