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
