import { randomUUID } from 'node:crypto';

import type { Context } from '@opentelemetry/api';
import { context, isSpanContextValid, propagation, trace } from '@opentelemetry/api';
import type {
  AuditActor,
  AuditCategory,
  AuditOutcome,
  Classification,
  ServiceName,
} from '@vivified/contracts';
import type { AuditRecord } from '@vivified/contracts';
import {
  AUDIT_BATCH_MAX_RECORDS,
  ErrorCode,
  VivifiedError,
  checkAuditRecord,
  dynamicSubjects,
  formatClassification,
  headers as headerNames,
  streams,
  subjects,
} from '@vivified/contracts';
import type { JetStreamClient } from 'nats';
import { headers } from 'nats';

import type { ServiceMetrics } from './metrics';
import type { ConnectionState } from './nats-health';
import { sanitizeDetails } from './sensitive-data';

/** What a service says about an audited action; the emitter fills in the rest of the {@link AuditRecord}. */
export interface AuditInput {
  /** Category; the record goes to `vivified.audit.<category>`. */
  category: AuditCategory;
  /** What happened (`login`, `plugin.approve`). */
  action: string;
  /** How it ended. */
  outcome: AuditOutcome;
  /** Who did it. */
  actor: Pick<AuditActor, 'kind' | 'id'>;
  /** What it was done to (`plugin:acme-crm`). */
  target?: string;
  /** Plugin involved, if any. */
  pluginId?: string;
  /** Classifications of the data involved. @default [] */
  classification?: Classification[];
  /** Whether PHI was involved. @default true when `classification` holds `phi` */
  phiInvolved?: boolean;
  /** Free-form details; secret and PHI keys are masked at any depth before publishing. */
  details?: Record<string, unknown>;
}

/** The subset of the logger the emitter uses. */
export interface AuditLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Options of {@link AuditEmitter}. */
export interface AuditEmitterOptions {
  /** The emitting service. */
  service: ServiceName;
  /** JetStream client of the service's connection (`nc.jetstream()`). */
  js: Pick<JetStreamClient, 'publish'>;
  /** The connection's state (a `NatsConnectionMonitor`): while down, records buffer without a wasted wait. */
  connection: ConnectionState;
  /** Where buffering, drops and losses are reported. */
  logger: AuditLogger;
  /** Counts `vivified_audit_emitted_total`, `vivified_audit_dropped_total`, `vivified_audit_buffered`. */
  metrics: ServiceMetrics;
  /** How long to wait for the stream's ack. @default 5000 */
  publishTimeoutMs?: number;
  /** How many non-PHI records wait in memory at most; the oldest is dropped beyond. @default 10000 */
  bufferLimit?: number;
  /** First retry delay of the buffer. @default 250 */
  retryInitialMs?: number;
  /** Largest retry delay of the buffer. @default 5000 */
  retryMaxMs?: number;
  /**
   * Publishes waiting for their acks at once; records arriving meanwhile gather into the next one (ADR-0007).
   * @default 2
   */
  maxInFlight?: number;
  /**
   * How long a record emitted with {@link AuditEmitter.emitLater} may wait for company before it is published.
   * @default 5
   */
  lingerMs?: number;
  /** Record id generator. @default crypto.randomUUID */
  newId?: () => string;
}

interface Pending {
  record: AuditRecord;
  /** The emitting request's context: a record published alone carries its `traceparent`/`tracestate`. */
  ctx: Context;
  /** The record's JSON as UTF-8, made once (the size check and the publish share it), and its size. */
  data: Buffer;
  bytes: number;
}

/**
 * A record waiting for the next publish of the live path, with the emit waiting on it — or none for a record of
 * `emitLater`, which the emitter settles itself (counted once published, buffered when the publish fails).
 */
interface Waiting extends Pending {
  settle?: { resolve: () => void; reject: (error: unknown) => void };
}

const BATCH_OPEN = Buffer.from('{"records":[');
const BATCH_CLOSE = Buffer.from(']}');
const COMMA = 0x2c;

/** `{"records":[<record>,<record>…]}` in one buffer, copied once from the records' own bytes. */
function batchBody(batch: readonly Pending[]): Buffer {
  let size = BATCH_OPEN.length + BATCH_CLOSE.length + batch.length - 1;
  for (const entry of batch) {
    size += entry.bytes;
  }
  const body = Buffer.allocUnsafe(size);
  let at = BATCH_OPEN.copy(body, 0);
  batch.forEach((entry, index) => {
    if (index > 0) {
      body[at++] = COMMA;
    }
    at += entry.data.copy(body, at);
  });
  BATCH_CLOSE.copy(body, at);

  return body;
}

/** Room kept for headers and framing under the stream's largest message. */
const ENVELOPE_RESERVE = 4 * 1024;
/** Largest message body the emitter sends (one record, or a batch of them). */
const MESSAGE_LIMIT = streams.audit.maxMsgSize - ENVELOPE_RESERVE;

/**
 * Builds, sanitizes, checks and publishes audit records to VIVIFIED_AUDIT with publish-with-ack. Records are
 * group-committed (ADR-0007): while {@link AuditEmitterOptions.maxInFlight} publishes wait for their acks, new
 * records gather, and the next publish carries all of them as one `vivified.audit.batch` message — so an idle
 * service publishes each record at once on `vivified.audit.<category>`, and a busy one pays one stream write for
 * many records instead of one each. The record id (or, for a batch, its first id and size) is the `Nats-Msg-Id`,
 * so a retry is stored once; the audit service stores each record id once whatever message carried it.
 *
 * Every emit resolves once its record is stored. When publishing fails, a record involving PHI is refused (fail
 * closed): await {@link AuditEmitter.emit} before a PHI action completes, and do not complete it when the emit
 * rejects. Any other record waits in a bounded buffer, retried with backoff and flushed at once on reconnect.
 */
export class AuditEmitter {
  private readonly buffer: Pending[] = [];
  private readonly publishTimeoutMs: number;
  private readonly bufferLimit: number;
  private readonly maxInFlight: number;
  private readonly newId: () => string;
  private waiting: Waiting[] = [];
  private inFlight = 0;
  private scheduled = false;
  private lingering: NodeJS.Timeout | undefined;
  /** Records of `emitLater` not built yet, with the trace context they were emitted in. */
  private later: Array<{ input: AuditInput; ctx: Context }> = [];
  private readonly lingerMs: number;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<boolean> | undefined;
  private lastDropLog = 0;
  private closed = false;
  private readonly stopListening: () => void;

  constructor(private readonly options: AuditEmitterOptions) {
    this.publishTimeoutMs = options.publishTimeoutMs ?? 5_000;
    this.bufferLimit = options.bufferLimit ?? 10_000;
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 2);
    this.lingerMs = Math.max(0, options.lingerMs ?? 5);
    this.newId = options.newId ?? randomUUID;
    this.stopListening = options.connection.onChange((connected) => {
      if (connected && this.buffer.length > 0) {
        clearTimeout(this.timer);
        this.timer = undefined;
        void this.flush().then((done) => this.retryUnless(done));
      }
    });
  }

  /** How many records wait in memory to be published. */
  get pending(): number {
    return this.buffer.length;
  }

  /**
   * Emits one audit record and resolves it once stored (its `id` is the `auditId` of an error reply). Rejects
   * with {@link ErrorCode.Unavailable} when a PHI record cannot be stored, and with {@link ErrorCode.Internal}
   * when the input does not make a valid record.
   */
  emit(input: AuditInput): Promise<AuditRecord> {
    return this.emitRecord(input, false);
  }

  /**
   * Emits a record nobody waits for (the action is done and not PHI): it waits up to `lingerMs` for other records
   * and leaves with them in one message, or with the next record that is awaited. A record involving PHI is not
   * allowed here — its action must await {@link AuditEmitter.emit} — and is published at once if given. Failures
   * are logged; the record then waits in the retry buffer like any other non-PHI record. The record is built on the
   * next turn of the event loop, after whatever the caller sends next.
   */
  emitLater(input: AuditInput): void {
    // built on the next turn of the event loop, all of that turn's records at once: the caller's reply goes out first
    this.later.push({ input, ctx: context.active() });
    if (this.later.length === 1) {
      setImmediate(() => this.emitDeferred());
    }
  }

  private emitDeferred(): void {
    const later = this.later;
    this.later = [];
    for (const { input, ctx } of later) {
      const phi = input.phiInvolved === true || (input.classification ?? []).includes('phi');
      if (phi) {
        this.emitRecord(input, false, ctx).catch((error: unknown) => {
          this.options.logger.error({ err: error }, 'audit record not emitted');
        });
        continue;
      }
      // nobody awaits these: no promise per record, the batch's outcome settles them (settleBatch)
      try {
        const entry = this.prepare(input, ctx);
        if (!this.bufferIfBehind(entry)) {
          this.waiting.push(entry);
          this.schedulePublish(true);
        }
      } catch (error) {
        this.options.logger.error({ err: error }, 'audit record not emitted');
      }
    }
  }

  /** The checked record, ready to publish; throws {@link ErrorCode.Internal} when the input is not a valid record. */
  private prepare(input: AuditInput, ctx: Context): Pending {
    const { record, data } = this.build(input, ctx);
    const problem = checkAuditRecord(record);
    if (typeof problem === 'string') {
      this.options.metrics.auditEmit('invalid');
      throw new VivifiedError(ErrorCode.Internal, 'invalid audit record', {
        details: [{ path: problem.replace(/^(invalid|unknown field) /, ''), messages: [problem] }],
      });
    }

    return { record, ctx, data, bytes: data.length };
  }

  /** Buffers a non-PHI record behind earlier buffered ones, or while disconnected; whether it did. */
  private bufferIfBehind(entry: Pending): boolean {
    if (entry.record.phiInvolved || (this.buffer.length === 0 && this.options.connection.isConnected())) {
      return false;
    }
    this.enqueue(entry, 'NATS disconnected or earlier records still pending');

    return true;
  }

  private async emitRecord(
    input: AuditInput,
    linger: boolean,
    ctx: Context = context.active(),
  ): Promise<AuditRecord> {
    const entry = this.prepare(input, ctx);
    const { record } = entry;
    if (this.bufferIfBehind(entry)) {
      return record;
    }
    try {
      if (!this.options.connection.isConnected()) {
        throw new Error('NATS disconnected');
      }
      await new Promise<void>((resolve, reject) => {
        const waiting: Waiting = entry;
        waiting.settle = { resolve, reject };
        this.waiting.push(waiting);
        this.schedulePublish(linger);
      });
      this.options.metrics.auditEmit('published');
    } catch (error) {
      if (record.phiInvolved) {
        this.options.metrics.auditEmit('refused');
        throw new VivifiedError(ErrorCode.Unavailable, 'audit trail unavailable: PHI action refused', {
          reason: 'audit_unavailable',
          cause: error,
        });
      }
      this.enqueue(entry, error instanceof Error ? error.message : String(error));
    }

    return record;
  }

  /** Publishes buffered records now, in order; resolves whether the buffer is empty after. */
  flush(): Promise<boolean> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
    });

    return this.flushing;
  }

  /** Stops retrying after one last flush; records still buffered are reported as lost. */
  async close(): Promise<void> {
    this.closed = true;
    // records deferred, lingering or in flight settle first (a failed one lands in the buffer flushed below)
    await new Promise<void>((resolve) => {
      const check = () => {
        if (this.waiting.length > 0) {
          clearTimeout(this.lingering);
          this.lingering = undefined;
          this.publishWaiting();
        }
        if (this.later.length === 0 && this.inFlight === 0 && this.waiting.length === 0) {
          resolve();
        } else {
          setTimeout(check, 5);
        }
      };
      check();
    });
    clearTimeout(this.timer);
    this.timer = undefined;
    this.stopListening();
    if (this.buffer.length > 0 && !(await this.flush())) {
      this.options.logger.error({ lost: this.buffer.length }, 'audit records not published before shutdown');
    }
  }

  /** The record and its JSON bytes (made once: the size check and the publish share them). */
  private build(input: AuditInput, ctx: Context): { record: AuditRecord; data: Buffer } {
    const classification = [...new Set(input.classification ?? [])];
    const spanContext = trace.getSpan(ctx)?.spanContext();
    const record: AuditRecord = {
      id: this.newId(),
      ts: new Date().toISOString(),
      category: input.category,
      action: input.action,
      outcome: input.outcome,
      actor: { kind: input.actor.kind, id: input.actor.id },
      ...(input.target === undefined ? {} : { target: input.target }),
      ...(input.pluginId === undefined ? {} : { pluginId: input.pluginId }),
      ...(spanContext && isSpanContextValid(spanContext) ? { traceId: spanContext.traceId } : {}),
      classification,
      phiInvolved: input.phiInvolved === true || classification.includes('phi'),
      service: this.options.service,
      details: sanitizeDetails(input.details ?? {}),
    };
    let data = Buffer.from(JSON.stringify(record));
    if (data.length > MESSAGE_LIMIT) {
      record.details = { truncated: true, reason: `details exceeded ${MESSAGE_LIMIT} bytes` };
      data = Buffer.from(JSON.stringify(record));
    }

    return { record, data };
  }

  /**
   * Starts a publish of the waiting records unless every slot is busy; records of one turn of the event loop go
   * out together, and records that arrive while the slots are busy go with the next publish that frees.
   */
  private schedulePublish(linger = false): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight) {
      return;
    }
    if (linger && this.lingerMs > 0) {
      this.lingering ??= setTimeout(() => {
        this.lingering = undefined;
        this.publishWaiting();
      }, this.lingerMs);

      return;
    }
    clearTimeout(this.lingering);
    this.lingering = undefined;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.publishWaiting();
    });
  }

  private publishWaiting(): void {
    while (this.waiting.length > 0 && this.inFlight < this.maxInFlight) {
      const [batch, rest] = takeBatch(this.waiting);
      this.waiting = rest;
      this.inFlight++;
      this.publish(batch)
        .then(
          () => this.settleBatch(batch, undefined),
          (error: unknown) => this.settleBatch(batch, error),
        )
        .finally(() => {
          this.inFlight--;
          this.publishWaiting();
        });
    }
  }

  /** Settles a published (`error` undefined) or failed batch: its emits, or the emitter's own records. */
  private settleBatch(batch: readonly Waiting[], error: unknown): void {
    let published = 0;
    for (const entry of batch) {
      if (entry.settle) {
        if (error === undefined) {
          entry.settle.resolve();
        } else {
          entry.settle.reject(error);
        }
      } else if (error === undefined) {
        published++;
      } else {
        this.enqueue(entry, error instanceof Error ? error.message : 'audit publish failed');
      }
    }
    if (published > 0) {
      this.options.metrics.auditEmit('published', published);
    }
  }

  /** Publishes records as one message: a lone record on its category subject, several as a batch. */
  private async publish(batch: readonly Pending[]): Promise<void> {
    const [first] = batch;
    if (!first) {
      return;
    }
    const hdrs = headers();
    const classification = [...new Set(batch.flatMap((entry) => entry.record.classification))];
    if (classification.length > 0) {
      hdrs.set(headerNames.classification, formatClassification(classification));
    }
    if (batch.length === 1) {
      const traceHeaders: Record<string, string> = {};
      propagation.inject(first.ctx, traceHeaders);
      for (const [name, value] of Object.entries(traceHeaders)) {
        hdrs.set(name, value);
      }
      await this.options.js.publish(dynamicSubjects.auditRecord(first.record.category), first.data, {
        msgID: first.record.id,
        timeout: this.publishTimeoutMs,
        headers: hdrs,
      });

      return;
    }
    await this.options.js.publish(subjects.auditRecords.batch, batchBody(batch), {
      msgID: `${first.record.id}+${batch.length}`,
      timeout: this.publishTimeoutMs,
      headers: hdrs,
    });
  }

  private enqueue(entry: Pending, reason: string): void {
    if (this.buffer.length === 0) {
      this.options.logger.warn({ reason }, 'audit publish failed, buffering records in memory');
    }
    this.buffer.push(entry);
    this.options.metrics.auditEmit('buffered');
    if (this.buffer.length > this.bufferLimit) {
      const dropped = this.buffer.shift();
      this.options.metrics.auditDrop();
      // One warning per 10 s at most: a long outage would otherwise write one line per dropped record.
      if (Date.now() - this.lastDropLog > 10_000) {
        this.lastDropLog = Date.now();
        this.options.logger.warn(
          { droppedId: dropped?.record.id, limit: this.bufferLimit },
          'audit buffer full, dropping the oldest records',
        );
      }
    }
    this.options.metrics.setAuditBuffered(this.buffer.length);
    this.schedule();
  }

  private retryUnless(done: boolean): void {
    if (!done) {
      this.schedule();
    }
  }

  private schedule(): void {
    if (this.timer || this.closed || this.buffer.length === 0) {
      return;
    }
    const ceiling = Math.min(
      this.options.retryMaxMs ?? 5_000,
      (this.options.retryInitialMs ?? 250) * 2 ** Math.min(this.failures, 20),
    );
    const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().then((done) => this.retryUnless(done));
    }, delay);
    this.timer.unref();
  }

  private async drain(): Promise<boolean> {
    const before = this.buffer.length;
    while (this.buffer.length > 0) {
      if (!this.options.connection.isConnected()) {
        this.failures++;

        return false;
      }
      const [batch] = takeBatch(this.buffer);
      try {
        await this.publish(batch);
      } catch {
        this.failures++;

        return false;
      }
      // Entries may have been dropped by an overflow while their publish was in flight.
      const sent = new Set(batch);
      const kept = this.buffer.filter((entry) => !sent.has(entry));
      this.buffer.splice(0, this.buffer.length, ...kept);
      this.options.metrics.auditEmit('published', batch.length);
      this.options.metrics.setAuditBuffered(this.buffer.length);
    }
    this.failures = 0;
    if (before > 0) {
      this.options.logger.info({ published: before }, 'audit buffer flushed');
    }

    return true;
  }
}

/**
 * Splits the records that fit one message off the front of `entries` (at most {@link AUDIT_BATCH_MAX_RECORDS},
 * within {@link MESSAGE_LIMIT} bytes; always at least one) from the rest.
 */
function takeBatch<T extends Pending>(entries: readonly T[]): [T[], T[]] {
  let bytes = 16;
  let count = 0;
  for (const entry of entries) {
    bytes += entry.bytes + 1;
    if (count > 0 && (bytes > MESSAGE_LIMIT || count >= AUDIT_BATCH_MAX_RECORDS)) {
      break;
    }
    count++;
  }

  return [entries.slice(0, count), entries.slice(count)];
}
