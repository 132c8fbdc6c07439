import { Inject, Injectable } from '@nestjs/common';
import { METRICS } from '@vivified/service-kit';
import type { ServiceMetrics } from '@vivified/service-kit';
import { Counter, Gauge, Histogram } from 'prom-client';

/** The canonical lane's Prometheus metrics, on the service's registry (`/metrics` of the ops port). */
@Injectable()
export class EventMetrics {
  readonly published: Counter<'event_type' | 'outcome'>;
  readonly delivered: Counter<'event_type'>;
  readonly failed: Counter<'event_type'>;
  readonly denied: Counter<'event_type' | 'reason'>;
  readonly deadLettered: Counter<'event_type'>;
  readonly quarantined: Counter;
  readonly deliveryLatency: Histogram<'event_type'>;
  readonly publishLatency: Histogram;
  readonly consumerLag: Gauge<'subscription'>;

  constructor(@Inject(METRICS) metrics: ServiceMetrics) {
    const registers = [metrics.registry];
    this.published = new Counter({
      name: 'vivified_events_published_total',
      help: 'Publish requests by outcome (stored, duplicate, invalid, denied, error)',
      labelNames: ['event_type', 'outcome'],
      registers,
    });
    this.delivered = new Counter({
      name: 'vivified_events_delivered_total',
      help: 'Events a subscriber acknowledged',
      labelNames: ['event_type'],
      registers,
    });
    this.failed = new Counter({
      name: 'vivified_events_delivery_failed_total',
      help: 'Delivery attempts that failed (retried or dead-lettered)',
      labelNames: ['event_type'],
      registers,
    });
    this.denied = new Counter({
      name: 'vivified_events_delivery_denied_total',
      help: 'Deliveries the policy denied (acked, not delivered)',
      labelNames: ['event_type', 'reason'],
      registers,
    });
    this.deadLettered = new Counter({
      name: 'vivified_events_dead_lettered_total',
      help: 'Events moved to VIVIFIED_DLQ after the last attempt',
      labelNames: ['event_type'],
      registers,
    });
    this.quarantined = new Counter({
      name: 'vivified_events_subscriptions_quarantined_total',
      help: 'Subscriptions quarantined for failing continuously',
      registers,
    });
    this.deliveryLatency = new Histogram({
      name: 'vivified_events_delivery_latency_seconds',
      help: "From the event's occurrence to the subscriber's ack",
      labelNames: ['event_type'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.publishLatency = new Histogram({
      name: 'vivified_events_publish_seconds',
      help: 'Handling of one publish request, authorization to stored',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers,
    });
    this.consumerLag = new Gauge({
      name: 'vivified_events_consumer_lag',
      help: 'Stored events not yet delivered, per subscription (JetStream num_pending + ack pending)',
      labelNames: ['subscription'],
      registers,
    });
  }
}
