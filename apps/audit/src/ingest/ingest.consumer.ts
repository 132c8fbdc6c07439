import { setTimeout as sleep } from 'node:timers/promises';

import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
import type { AuditRecord } from '@vivified/contracts';
import { checkAuditBatch, checkAuditRecord, consumers, subjects } from '@vivified/contracts';
import { ensureConsumer } from '@vivified/nats-transport';
import type { ServiceLogger } from '@vivified/service-kit';
import { NATS_CONNECTION, SERVICE_CONFIG, SERVICE_LOGGER } from '@vivified/service-kit';
import type { ConsumerMessages, JsMsg, NatsConnection } from 'nats';
import { ConsumerEvents } from 'nats';

import { AuditMetrics } from '../audit-metrics';
import type { AuditConfig } from '../config';
import { IngestService } from './ingest.service';

/** How long a partial batch waits for more records before it is stored. */
const LINGER_MS = 20;
/** Batches being stored at once: the next one is checked and sanitized while the previous one commits. */
const MAX_IN_FLIGHT = 2;
/** How often the ingest lag is read from the consumer. */
const LAG_POLL_MS = 5_000;
const DECODER = new TextDecoder();

/** A message taken off the stream with the valid records it carries (one, or a batch's). */
interface Received {
  msg: JsMsg;
  records: AuditRecord[];
}

/**
 * The durable pull consumer `audit-ingest` on VIVIFIED_AUDIT, in batches: records collect until the batch is full
 * or {@link LINGER_MS} pass, the batch is stored in one transaction, and only then are its messages acknowledged.
 * A message is one record (`vivified.audit.<category>`) or an emitter's batch (`vivified.audit.batch`, ADR-0007);
 * an invalid record is counted and dropped without costing the valid records of its batch. A failed batch is not
 * acknowledged (nak with delay) and comes back; ids make the redelivery a no-op for what was stored.
 */
@Injectable()
export class IngestConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private stopped = false;
  private loop: Promise<void> | undefined;
  private messages: ConsumerMessages | undefined;
  private buffer: Received[] = [];
  private buffered = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private lagTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly ingest: IngestService,
    private readonly metrics: AuditMetrics,
    @Inject(SERVICE_CONFIG) private readonly config: AuditConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
  ) {}

  onApplicationBootstrap(): void {
    this.loop = this.run();
    this.lagTimer = setInterval(() => void this.pollLag(), LAG_POLL_MS);
    this.lagTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.lagTimer);
    this.messages?.stop();
    await this.loop;
    void this.startFlush();
    await Promise.allSettled([...this.inFlight]);
  }

  private async run(): Promise<void> {
    const def = consumers.auditIngest;
    while (!this.stopped) {
      try {
        await ensureConsumer(await this.nc.jetstreamManager(), def);
        const consumer = await this.nc.jetstream().consumers.get(def.stream, def.durable);
        const messages = await consumer.consume({ max_messages: this.config.batchSize * 2 });
        this.messages = messages;
        void this.rebindWhenGone(messages);
        for await (const msg of this.messages) {
          const records = this.decode(msg);
          if (records.length === 0) {
            continue;
          }
          this.buffer.push({ msg, records });
          this.buffered += records.length;
          if (this.buffered >= this.config.batchSize) {
            void this.startFlush();
            // backpressure: at most MAX_IN_FLIGHT batches are being stored (one prepares while one commits)
            while (this.inFlight.size >= MAX_IN_FLIGHT) {
              await Promise.race(this.inFlight);
            }
          } else {
            this.timer ??= setTimeout(() => void this.startFlush(), LINGER_MS);
          }
        }
      } catch (error) {
        if (this.stopped) {
          break;
        }
        this.logger.warn({ err: error }, 'audit ingest consumer failed, retrying');
        await sleep(1_000);
      }
    }
  }

  /** Ends the pull when its consumer or stream is deleted, so the loop ensures them again. */
  private async rebindWhenGone(messages: ConsumerMessages): Promise<void> {
    for await (const status of await messages.status()) {
      if (
        status.type === ConsumerEvents.ConsumerDeleted ||
        status.type === ConsumerEvents.ConsumerNotFound ||
        status.type === ConsumerEvents.StreamNotFound
      ) {
        messages.stop();

        return;
      }
    }
  }

  private startFlush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer.splice(0);
    this.buffered = 0;
    if (batch.length === 0) {
      return Promise.resolve();
    }
    const work = this.flush(batch).finally(() => this.inFlight.delete(work));
    this.inFlight.add(work);

    return work;
  }

  private async flush(batch: Received[]): Promise<void> {
    const records = batch.flatMap((received) => received.records);
    try {
      await this.ingest.ingest(records);
      for (const { msg } of batch) {
        msg.ack();
      }
    } catch (error) {
      this.logger.error(
        { err: error, records: records.length },
        'audit batch not stored, will be redelivered',
      );
      for (const { msg } of batch) {
        msg.nak(1_000);
      }
    }
  }

  /** The valid records of a message; a message without any is terminated (it can never be stored). */
  private decode(msg: JsMsg): AuditRecord[] {
    let body: unknown;
    try {
      body = JSON.parse(DECODER.decode(msg.data)) as unknown;
    } catch {
      return this.terminate(msg, 'not JSON');
    }
    const checked =
      msg.subject === subjects.auditRecords.batch ? checkAuditBatch(body) : [checkAuditRecord(body)];
    if (typeof checked === 'string') {
      return this.terminate(msg, checked);
    }
    const records: AuditRecord[] = [];
    for (const entry of checked) {
      if (typeof entry === 'string') {
        this.ingest.rejected(entry);
      } else {
        records.push(entry);
      }
    }
    if (records.length === 0) {
      msg.term();
    }

    return records;
  }

  private terminate(msg: JsMsg, reason: string): AuditRecord[] {
    this.ingest.rejected(reason);
    msg.term();

    return [];
  }

  private async pollLag(): Promise<void> {
    try {
      const def = consumers.auditIngest;
      const info = await (await this.nc.jetstreamManager()).consumers.info(def.stream, def.durable);
      this.metrics.setLag(info.num_pending + info.num_ack_pending);
    } catch {
      // the consumer may not exist yet; the next poll tries again
    }
  }
}
