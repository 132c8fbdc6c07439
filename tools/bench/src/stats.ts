import { readFileSync } from 'node:fs';

/** Latency figures of one run, in microseconds. */
export interface LatencyStats {
  count: number;
  p50: number;
  p99: number;
  mean: number;
}

/** The q-quantile (0..1) of sorted samples, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) {
    return Number.NaN;
  }
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));

  return sorted[rank] ?? Number.NaN;
}

/** Summarizes latency samples given in nanoseconds. */
export function latencyStats(samplesNs: readonly bigint[]): LatencyStats {
  const micros = samplesNs.map((ns) => Number(ns) / 1_000).sort((a, b) => a - b);
  const sum = micros.reduce((acc, value) => acc + value, 0);

  return {
    count: micros.length,
    p50: quantile(micros, 0.5),
    p99: quantile(micros, 0.99),
    mean: sum / micros.length,
  };
}

/** Formats a ratio of ours to raw, e.g. `1.08×`. */
export function ratio(ours: number, raw: number): string {
  return `${(ours / raw).toFixed(2)}×`;
}

/** CPU time (user + system) a process has used so far, in microseconds (Linux `/proc/<pid>/stat`, 10 ms ticks). */
export function cpuMicros(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const ticks = Number(fields[11]) + Number(fields[12]);

    return (ticks * 1_000_000) / 100;
  } catch {
    return 0;
  }
}

/**
 * Starts a CPU meter over named processes (`undefined` pid = this process); `perUnit(n)` gives each one's CPU
 * microseconds per unit of work since the start, and their total — where a run's time went across the machine.
 */
export function cpuMeter(pids: Record<string, number | undefined>): {
  perUnit: (units: number) => Record<string, number>;
} {
  const read = (pid: number | undefined) => {
    if (pid !== undefined) {
      return cpuMicros(pid);
    }
    const usage = process.cpuUsage();

    return usage.user + usage.system;
  };
  const start = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, read(pid)]));

  return {
    perUnit: (units) => {
      const used = Object.fromEntries(
        Object.entries(pids).map(([name, pid]) => [
          name,
          Math.round((read(pid) - (start[name] ?? 0)) / units),
        ]),
      );

      return { ...used, total: Object.values(used).reduce((sum, value) => sum + value, 0) };
    },
  };
}

/** Message passes through a nats-server (in + out), and their bytes. */
export interface NatsTraffic {
  messages: number;
  bytes: number;
}

/** What a nats-server has taken in and sent out so far, from its monitoring port (`-m <port>`, `/varz`). */
export async function natsServerTraffic(monitorPort: number): Promise<NatsTraffic> {
  const varz = (await (await fetch(`http://127.0.0.1:${monitorPort}/varz`)).json()) as {
    in_msgs: number;
    out_msgs: number;
    in_bytes: number;
    out_bytes: number;
  };

  return { messages: varz.in_msgs + varz.out_msgs, bytes: varz.in_bytes + varz.out_bytes };
}

/** The traffic since `before`, per unit of work (messages to two decimals, bytes whole). */
export async function natsTrafficPer(
  monitorPort: number,
  before: NatsTraffic,
  units: number,
): Promise<NatsTraffic> {
  const now = await natsServerTraffic(monitorPort);

  return {
    messages: Number(((now.messages - before.messages) / units).toFixed(2)),
    bytes: Math.round((now.bytes - before.bytes) / units),
  };
}
