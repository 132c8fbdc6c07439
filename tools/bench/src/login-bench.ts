import { availableParallelism, cpus, loadavg } from 'node:os';

import type { Options } from '@node-rs/argon2';
import { hash, verify } from '@node-rs/argon2';

import { latencyStats } from './stats';

/**
 * Password-login cost on this machine: argon2id hashes and verifications per second per core at the cost identity
 * uses (apps/identity/src/accounts/password/password-hasher.ts `argon2Parameters`; apps cannot be imported here,
 * so the chosen row is repeated below and must follow it), next to a few other costs for comparison, and the
 * whole machine's rate with one verification per core at a time (how identity gates them).
 * Run: `node tools/bench/dist/login-bench.js` after `npm run build`.
 */
const SAMPLES = Number(process.env['BENCH_LOGIN_SAMPLES'] ?? 30);

/** Keycloak's sizing guide: one vCPU handles about 15 password logins per second (its PBKDF2/argon2 default). */
const KEYCLOAK_LOGINS_PER_VCPU = 15;

interface Cost {
  name: string;
  memoryCost: number;
  timeCost: number;
  chosen?: true;
}

const costs: Cost[] = [
  { name: 'OWASP minimum (19 MiB, t=2)', memoryCost: 19_456, timeCost: 2 },
  { name: 'OWASP alt. (46 MiB, t=1)', memoryCost: 47_104, timeCost: 1 },
  { name: 'identity (64 MiB, t=2)', memoryCost: 65_536, timeCost: 2, chosen: true },
  { name: '64 MiB, t=3', memoryCost: 65_536, timeCost: 3 },
];

const PASSWORD = 'Correct-Horse-Battery-9';

function options(cost: Cost): Options {
  // 2 = Algorithm.Argon2id (a const enum, unreadable under isolatedModules)
  return {
    algorithm: 2,
    memoryCost: cost.memoryCost,
    timeCost: cost.timeCost,
    parallelism: 1,
    outputLen: 32,
  };
}

async function sequential(op: () => Promise<unknown>, count: number): Promise<bigint[]> {
  await op();
  const samples: bigint[] = [];
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    await op();
    samples.push(process.hrtime.bigint() - start);
  }

  return samples;
}

/** Verifications per second with `workers` running at once for `durationMs`. */
async function parallel(op: () => Promise<unknown>, workers: number, durationMs: number): Promise<number> {
  const deadline = Date.now() + durationMs;
  let done = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (Date.now() < deadline) {
        await op();
        done++;
      }
    }),
  );

  return done / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function main(): Promise<void> {
  const cores = availableParallelism();
  console.log(
    `argon2id on ${cpus()[0]?.model ?? 'unknown CPU'}, ${cores} cores, Node ${process.version}, ${SAMPLES} samples each, load average ${loadavg()[0]?.toFixed(2)}`,
  );
  console.log(
    `\n${'cost'.padEnd(30)} ${'hash p50'.padStart(9)} ${'verify min'.padStart(11)} ${'verify p50'.padStart(11)} ${'verify p99'.padStart(11)} ${'verify/s/core'.padStart(14)} ${`verify/s (${cores} cores)`.padStart(20)}`,
  );
  for (const cost of costs) {
    const opts = options(cost);
    const encoded = await hash(PASSWORD, opts);
    const hashes = latencyStats(await sequential(() => hash(PASSWORD, opts), Math.max(5, SAMPLES / 3)));
    const samples = await sequential(() => verify(encoded, PASSWORD), SAMPLES);
    const verifies = latencyStats(samples);
    const fastest = Number(samples.reduce((min, sample) => (sample < min ? sample : min))) / 1_000;
    const machine = await parallel(() => verify(encoded, PASSWORD), cores, 3_000);
    const ms = (micros: number) => `${(micros / 1_000).toFixed(1)} ms`;
    console.log(
      `${(cost.chosen ? `* ${cost.name}` : `  ${cost.name}`).padEnd(30)} ${ms(hashes.p50).padStart(9)} ${ms(fastest).padStart(11)} ${ms(verifies.p50).padStart(11)} ${ms(verifies.p99).padStart(11)} ${(1_000_000 / verifies.mean).toFixed(1).padStart(14)} ${machine.toFixed(1).padStart(20)}`,
    );
  }
  console.log(
    `\nload average when done: ${loadavg()
      .map((value) => value.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `* = identity's cost. Anchor: Keycloak sizes ${KEYCLOAK_LOGINS_PER_VCPU} password logins/s per vCPU; a login is one verification.`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
