import type { OnModuleDestroy } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import { buckets, ErrorCode, VivifiedError } from '@vivified/contracts';
import type { ServiceLogger } from '@vivified/service-kit';
import { NATS_CONNECTION, SERVICE_CONFIG, SERVICE_LOGGER } from '@vivified/service-kit';
import type { BulkheadPolicy, CircuitBreakerPolicy, IBreaker } from 'cockatiel';
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  bulkhead,
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  handleWhen,
  SamplingBreaker,
} from 'cockatiel';
import type { KV, NatsConnection } from 'nats';

import type { GatewayConfig } from '../lane-edge';
import type { BreakerStateName } from '../lane-metrics';
import { LaneMetrics } from '../lane-metrics';

/** Reason of a timeout at a deadline the caller set (shorter than the operation's timeout). */
export const CALLER_DEADLINE = 'caller_deadline';

/** Error codes from a target (or the way to it) that count against its breaker. */
const TARGET_FAILURES: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.Timeout,
  ErrorCode.Unavailable,
  ErrorCode.Internal,
]);

/** Whether an error is the target's failure (not a refusal or an application answer). */
export function isTargetFailure(error: unknown): boolean {
  // a timeout the caller chose with a shorter deadline says nothing about the target
  return (
    error instanceof VivifiedError && TARGET_FAILURES.has(error.code) && error.reason !== CALLER_DEADLINE
  );
}

/** Opens on N consecutive failures or on a failure rate over a sliding window, whichever comes first. */
class LaneBreaker implements IBreaker {
  private readonly consecutive: ConsecutiveBreaker;
  private readonly sampling: SamplingBreaker;

  constructor(consecutive: number, rate: number, windowMs: number, minimumRps: number) {
    this.consecutive = new ConsecutiveBreaker(consecutive);
    this.sampling = new SamplingBreaker({ threshold: rate, duration: windowMs, minimumRps });
  }

  get state(): unknown {
    return { consecutive: this.consecutive.state, sampling: this.sampling.state };
  }

  set state(value: unknown) {
    const saved = value as { consecutive: number; sampling: unknown };
    this.consecutive.state = saved.consecutive;
    this.sampling.state = saved.sampling;
  }

  success(state: CircuitState): void {
    this.consecutive.success();
    this.sampling.success(state);
  }

  failure(state: CircuitState): boolean {
    const consecutive = this.consecutive.failure();
    const rate = this.sampling.failure(state);

    return consecutive || rate;
  }
}

const STATE_NAMES: Readonly<Record<CircuitState, BreakerStateName>> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Isolated]: 'isolated',
};

interface TargetPolicies {
  breaker: CircuitBreakerPolicy;
  bulkhead: BulkheadPolicy;
}

/** What the `vivified_breakers` bucket holds per target (key = target plugin id). */
export interface BreakerRecord {
  target: string;
  state: BreakerStateName;
  changedAt: string;
}

/**
 * One circuit breaker and one bulkhead per operator-lane target (cockatiel). An open breaker refuses at once
 * with `CIRCUIT_OPEN` (503); after `halfOpenAfter` one probe goes through while the others are refused; its
 * success closes the breaker, its failure opens it again. A full bulkhead refuses with `RATE_LIMITED`. Each state
 * change goes to the `vivified_lane_breaker_state` gauge and to the `vivified_breakers` KV bucket for the console.
 */
@Injectable()
export class TargetBreakers implements OnModuleDestroy {
  private readonly targets = new Map<string, TargetPolicies>();
  private bucket: Promise<KV | undefined> | undefined;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: GatewayConfig,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
    private readonly metrics: LaneMetrics,
  ) {}

  onModuleDestroy(): void {
    this.targets.clear();
  }

  /** The breaker state of a target (closed when it was never called). */
  state(target: string): BreakerStateName {
    const policies = this.targets.get(target);

    return policies ? STATE_NAMES[policies.breaker.state] : 'closed';
  }

  /** Runs one call (all its attempts) to a target under its bulkhead and breaker. */
  async execute<T>(target: string, attempt: () => Promise<T>): Promise<T> {
    const policies = this.policiesOf(target);
    const state = policies.breaker.state;
    if (state === CircuitState.HalfOpen) {
      // one probe at a time: the others are refused at once rather than queued behind it
      throw new VivifiedError(ErrorCode.CircuitOpen, `calls to ${target} are suspended`, {
        reason: 'circuit_half_open',
      });
    }
    try {
      return await policies.bulkhead.execute(() => policies.breaker.execute(attempt));
    } catch (error) {
      if (error instanceof BrokenCircuitError) {
        throw new VivifiedError(ErrorCode.CircuitOpen, `calls to ${target} are suspended`, {
          reason: 'circuit_open',
        });
      }
      if (error instanceof BulkheadRejectedError) {
        throw new VivifiedError(ErrorCode.RateLimited, `too many calls in flight to ${target}`, {
          reason: 'bulkhead_full',
        });
      }
      throw error;
    }
  }

  private policiesOf(target: string): TargetPolicies {
    let policies = this.targets.get(target);
    if (policies) {
      return policies;
    }
    const config = this.config;
    const breaker = circuitBreaker(handleWhen(isTargetFailure), {
      halfOpenAfter: config.laneBreakerHalfOpenMs,
      breaker: new LaneBreaker(
        config.laneBreakerConsecutive,
        config.laneBreakerFailureRate / 100,
        config.laneBreakerWindowMs,
        config.laneBreakerMinimumRps,
      ),
    });
    breaker.onStateChange((state) => this.publish(target, STATE_NAMES[state]));
    policies = { breaker, bulkhead: bulkhead(config.laneBulkhead, 0) };
    this.targets.set(target, policies);
    this.metrics.breakerState(target, 'closed');

    return policies;
  }

  private publish(target: string, state: BreakerStateName): void {
    this.metrics.breakerState(target, state);
    this.logger.info({ target, state }, 'operator-lane breaker changed');
    const record: BreakerRecord = { target, state, changedAt: new Date().toISOString() };
    void this.kv()
      .then((kv) => kv?.put(target, JSON.stringify(record)))
      .catch((error: unknown) => this.logger.warn({ err: error, target }, 'breaker state not stored'));
  }

  private kv(): Promise<KV | undefined> {
    this.bucket ??= this.nc
      .jetstream()
      .views.kv(buckets.breakers.name, { bindOnly: true })
      .catch((error: unknown) => {
        this.bucket = undefined;
        this.logger.warn({ err: error }, 'breaker bucket unavailable');

        return undefined;
      });

    return this.bucket;
  }
}
