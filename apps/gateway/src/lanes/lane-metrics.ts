import { Inject, Injectable } from '@nestjs/common';
import { METRICS, ServiceMetrics } from '@vivified/service-kit';
import { Counter, Gauge, Histogram } from 'prom-client';

/** Which lane a call went through. */
export type Lane = 'operator' | 'proxy';

/** Breaker states as the gauge reports them. */
export const breakerStateValues = { closed: 0, open: 1, half_open: 2, isolated: 3 } as const;

/** One breaker state name. */
export type BreakerStateName = keyof typeof breakerStateValues;

/** Prometheus metrics of the operator and proxy lanes, on the service's registry. */
@Injectable()
export class LaneMetrics {
  private readonly calls: Counter<'lane' | 'outcome' | 'code'>;
  private readonly duration: Histogram<'lane' | 'outcome'>;
  private readonly breaker: Gauge<'target'>;
  private readonly refusals: Counter<'lane' | 'reason'>;

  constructor(@Inject(METRICS) metrics: ServiceMetrics) {
    const registers = [metrics.registry];
    this.calls = new Counter({
      name: 'vivified_lane_calls_total',
      help: 'Operator and proxy lane calls, by lane, outcome and error code',
      labelNames: ['lane', 'outcome', 'code'],
      registers,
    });
    this.duration = new Histogram({
      name: 'vivified_lane_call_seconds',
      help: 'Lane call latency in the gateway, from receipt to reply',
      labelNames: ['lane', 'outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.breaker = new Gauge({
      name: 'vivified_lane_breaker_state',
      help: 'Circuit breaker of each operator-lane target: 0 closed, 1 open, 2 half-open, 3 isolated',
      labelNames: ['target'],
      registers,
    });
    this.refusals = new Counter({
      name: 'vivified_lane_refusals_total',
      help: 'Lane calls refused by the gateway’s own checks, by reason',
      labelNames: ['lane', 'reason'],
      registers,
    });
  }

  /** Counts one finished call. */
  call(lane: Lane, outcome: string, code: string, seconds: number): void {
    this.calls.inc({ lane, outcome, code });
    this.duration.observe({ lane, outcome }, seconds);
  }

  /** Records a breaker's state. */
  breakerState(target: string, state: BreakerStateName): void {
    this.breaker.set({ target }, breakerStateValues[state]);
  }

  /** Counts a refusal by reason. */
  refusal(lane: Lane, reason: string): void {
    this.refusals.inc({ lane, reason });
  }
}
