import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import type {
  Classification,
  EventPublishReply,
  PluginStatusEntry,
  StoredEventEnvelope,
} from '@vivified/contracts';
import { ErrorCode, EventEnvelope, parsePayload, VivifiedError } from '@vivified/contracts';
import type { Principal } from '@vivified/nats-transport';
import type { AuditEmitter, AuditInput } from '@vivified/service-kit';
import { AUDIT_EMITTER, SERVICE_LOGGER } from '@vivified/service-kit';
import type { ServiceLogger } from '@vivified/service-kit';

import { EventMetrics } from '../event-metrics';
import { PluginDirectory } from '../plugins/plugin-directory';
import type { ResolvedSchema } from '../schemas/schema-registry.service';
import { SchemaRegistryService } from '../schemas/schema-registry.service';
import { newTraceId } from '@vivified/nats-transport';
import { EventStore } from './event-store';

/** One authorized publish request. */
export interface PublishInput {
  principal: Principal;
  /** The type named by the subject. */
  eventType: string;
  /** The request body (the envelope the publisher sent). */
  body: unknown;
  /** The trace id of the publisher's `traceparent`, if any. */
  traceId: string | undefined;
}

/** The name part of a manifest event entry (`UserCreated@1.0` → `UserCreated`) and its pinned major. */
function declared(entry: string): { type: string; major: number | undefined } {
  const at = entry.indexOf('@');
  if (at < 0) {
    return { type: entry, major: undefined };
  }

  return { type: entry.slice(0, at), major: Number(entry.slice(at + 1).split('.')[0]) };
}

/** Whether a manifest event list covers a type and schema version. */
export function declaresType(list: readonly string[] | undefined, type: string, version: string): boolean {
  const major = Number(version.split('.')[0]);

  return (list ?? []).some((entry) => {
    const parsed = declared(entry);

    return parsed.type === type && (parsed.major === undefined || parsed.major === major);
  });
}

/** The source id of a principal on an envelope: the plugin id, or `service:<name>` for a core service. */
export function sourceIdOf(principal: Principal): string {
  return principal.kind === 'plugin' ? principal.id : `${principal.kind}:${principal.id}`;
}

/**
 * Publish on the canonical lane (ARCHITECTURE §3): the publishing plugin must declare the type in its approved
 * manifest, `source` must be the caller, the payload must validate against the type's schema; the envelope is
 * completed and stored in `VIVIFIED_EVENTS` with `Nats-Msg-Id` = event id (a retry is stored once), and only then
 * answered. Every outcome is audited without the payload.
 */
@Injectable()
export class PublishService {
  constructor(
    private readonly registry: SchemaRegistryService,
    private readonly directory: PluginDirectory,
    private readonly store: EventStore,
    private readonly metrics: EventMetrics,
    @Inject(AUDIT_EMITTER) private readonly audit: AuditEmitter,
    @Inject(SERVICE_LOGGER) private readonly log: ServiceLogger,
  ) {}

  /** The schema a request names (for the sidecar's classification before the request is authorized). */
  schemaFor(eventType: string, body: unknown): ResolvedSchema | undefined {
    const version =
      typeof body === 'object' && body !== null
        ? (body as { schemaVersion?: unknown }).schemaVersion
        : undefined;

    return this.registry.resolve(eventType, typeof version === 'string' ? version : undefined);
  }

  /** The plugin's registry entry (approved traits, manifest events). */
  pluginEntry(pluginId: string): PluginStatusEntry | undefined {
    return this.directory.get(pluginId);
  }

  async publish(input: PublishInput): Promise<EventPublishReply> {
    const { principal, eventType } = input;
    try {
      const reply = await this.publishChecked(input);
      this.metrics.published.inc({
        event_type: eventType,
        outcome: reply.duplicate ? 'duplicate' : 'stored',
      });

      return reply;
    } catch (error) {
      const code = error instanceof VivifiedError ? error.code : ErrorCode.Internal;
      const outcome =
        code === ErrorCode.ValidationFailed || code === ErrorCode.NotFound
          ? 'invalid'
          : code === ErrorCode.PolicyDenied
            ? 'denied'
            : 'error';
      this.metrics.published.inc({
        event_type: this.registry.resolve(eventType) ? eventType : 'unknown',
        outcome,
      });
      if (outcome === 'error') {
        this.log.error({ err: error, eventType, principal: principal.id }, 'publish failed');
      }
      throw error;
    }
  }

  private async publishChecked(input: PublishInput): Promise<EventPublishReply> {
    const { principal, eventType } = input;
    const envelope = parsePayload(EventEnvelope, input.body);
    if (envelope.eventType !== undefined && envelope.eventType !== eventType) {
      throw new VivifiedError(ErrorCode.ValidationFailed, 'invalid EventEnvelope', {
        details: [{ path: 'eventType', messages: ['eventType must be the type of the publish subject'] }],
      });
    }
    const schema = this.registry.resolve(eventType, envelope.schemaVersion);
    if (!schema) {
      throw new VivifiedError(ErrorCode.NotFound, 'unknown event type or schema version', {
        reason: envelope.schemaVersion === undefined ? 'unknown_event_type' : 'unknown_schema_version',
      });
    }
    const sourceId = sourceIdOf(principal);
    if (principal.kind === 'plugin') {
      const entry = this.directory.get(principal.id);
      if (!declaresType(entry?.events?.publishes, eventType, schema.version)) {
        throw await this.deny(input, schema, 'event_type_not_declared');
      }
    }
    if (envelope.source !== undefined && envelope.source.pluginId !== sourceId) {
      throw await this.deny(input, schema, 'source_mismatch');
    }
    const errors = schema.validate(envelope.payload);
    if (errors.length > 0) {
      throw new VivifiedError(ErrorCode.ValidationFailed, `invalid ${eventType} payload`, {
        details: errors,
      });
    }
    const classification = [
      ...new Set<Classification>([...schema.classification, ...(envelope.classification ?? [])]),
    ].sort();
    const stored: StoredEventEnvelope = {
      eventId: envelope.eventId ?? randomUUID(),
      eventType,
      schemaVersion: schema.version,
      occurredAt: envelope.occurredAt ?? new Date().toISOString(),
      source: { pluginId: sourceId },
      traceId: input.traceId ?? envelope.traceId ?? newTraceId(),
      classification,
      payload: envelope.payload,
    };
    const position = await this.store.store(stored);
    const record: AuditInput = {
      category: 'event',
      action: 'event.publish',
      outcome: 'success',
      actor: { kind: principal.kind, id: `${principal.kind}:${principal.id}` },
      ...(principal.kind === 'plugin' ? { pluginId: principal.id } : {}),
      classification,
      details: {
        eventId: stored.eventId,
        eventType,
        schemaVersion: stored.schemaVersion,
        seq: position.seq,
        duplicate: position.duplicate,
        traceId: stored.traceId,
      },
    };
    if (classification.includes('phi')) {
      // a PHI publish is answered only once its audit record is stored (fails closed otherwise)
      await this.audit.emit(record);
    } else {
      // not on the publisher's path: the record goes out with the next batch
      this.audit.emitLater(record);
    }

    return { eventId: stored.eventId, seq: position.seq, ...(position.duplicate ? { duplicate: true } : {}) };
  }

  private async deny(input: PublishInput, schema: ResolvedSchema, reason: string): Promise<VivifiedError> {
    const { principal, eventType } = input;
    let auditId: string | undefined;
    try {
      const record = await this.audit.emit({
        category: 'event',
        action: 'event.publish',
        outcome: 'denied',
        actor: { kind: principal.kind, id: `${principal.kind}:${principal.id}` },
        ...(principal.kind === 'plugin' ? { pluginId: principal.id } : {}),
        classification: [...schema.classification],
        details: { eventType, reason, ...(input.traceId ? { traceId: input.traceId } : {}) },
      });
      auditId = record.id;
    } catch (error) {
      this.log.error({ err: error }, 'publish deny audit failed');
    }

    return new VivifiedError(ErrorCode.PolicyDenied, 'access denied', {
      reason,
      ...(auditId === undefined ? {} : { auditId }),
    });
  }
}
