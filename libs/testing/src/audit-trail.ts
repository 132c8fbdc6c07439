import type { AuditRecord } from '@vivified/contracts';
import { streams, subjects } from '@vivified/contracts';
import type { NatsConnection } from 'nats';

/** An audit record as it sits in VIVIFIED_AUDIT, with the subject of the message that carried it. */
export type StreamedAuditRecord = AuditRecord & { subject: string };

/**
 * Every audit record in the VIVIFIED_AUDIT stream, in stream order, whether published alone on
 * `vivified.audit.<category>` or in an emitter's batch on `vivified.audit.batch` (ADR-0007).
 */
export async function readAuditStream(nc: NatsConnection): Promise<StreamedAuditRecord[]> {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info(streams.audit.name).catch(() => undefined);
  const records: StreamedAuditRecord[] = [];
  if (!info || info.state.messages === 0) {
    return records;
  }
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq += 1) {
    const message = await jsm.streams.getMessage(streams.audit.name, { seq }).catch(() => undefined);
    if (!message) {
      continue; // deleted
    }
    const body = message.json<AuditRecord | { records: AuditRecord[] }>();
    const carried =
      message.subject === subjects.auditRecords.batch
        ? (body as { records: AuditRecord[] }).records
        : [body as AuditRecord];
    records.push(...carried.map((record) => ({ ...record, subject: message.subject })));
  }

  return records;
}
