import { Inject, Injectable } from '@nestjs/common';
import type { AuditActor, AuditQueryReply, AuditQueryRequest, AuditRecordView } from '@vivified/contracts';
import { auditQueryLimits, ErrorCode, VivifiedError } from '@vivified/contracts';
import type { AuditEmitter } from '@vivified/service-kit';
import { AUDIT_EMITTER } from '@vivified/service-kit';

import type { StoredRow } from '../store/audit.repository';
import { AuditRepository } from '../store/audit.repository';

const CURSOR = /^s(\d{1,15})$/;

const encodeCursor = (seq: number): string => Buffer.from(`s${seq}`).toString('base64url');

function decodeCursor(cursor: string): number {
  const match = CURSOR.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) {
    throw new VivifiedError(ErrorCode.BadRequest, 'invalid cursor', { reason: 'invalid_cursor' });
  }

  return Number(match[1]);
}

/** The view of a stored row. */
export function recordView(row: StoredRow): AuditRecordView {
  return {
    seq: row.seq,
    id: row.id,
    ts: row.ts,
    storedAt: row.storedAt,
    category: row.category as AuditRecordView['category'],
    action: row.action,
    outcome: row.outcome as AuditRecordView['outcome'],
    actor: { kind: row.actorKind as AuditActor['kind'], id: row.actorId },
    ...(row.target === null ? {} : { target: row.target }),
    ...(row.pluginId === null ? {} : { pluginId: row.pluginId }),
    ...(row.traceId === null ? {} : { traceId: row.traceId }),
    classification: row.classification as AuditRecordView['classification'],
    phiInvolved: row.phiInvolved,
    service: row.service,
    details: row.details,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}

/** Reads of the trail, newest first with a seq cursor; every read is itself audited. */
@Injectable()
export class QueryService {
  constructor(
    private readonly repository: AuditRepository,
    @Inject(AUDIT_EMITTER) private readonly audit: AuditEmitter,
  ) {}

  /** One page; `purpose` names the read in the trail (`audit.query` or `audit.export`). */
  async page(
    actor: Pick<AuditActor, 'kind' | 'id'>,
    request: AuditQueryRequest,
    purpose: 'audit.query' | 'audit.export',
  ): Promise<AuditQueryReply> {
    const limit = request.limit ?? auditQueryLimits.defaultLimit;
    const { cursor, limit: _limit, ...filters } = request;
    const rows = await this.repository.query(
      {
        ...filters,
        from: request.from ? new Date(request.from) : undefined,
        to: request.to ? new Date(request.to) : undefined,
        beforeSeq: cursor === undefined ? undefined : decodeCursor(cursor),
      },
      limit + 1,
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    // the read is recorded before it is answered; a read is not a PHI action, so it never waits on the stream
    await this.audit.emit({
      category: 'audit',
      action: purpose,
      outcome: 'success',
      actor,
      details: { filters, cursor: cursor !== undefined, returned: page.length },
    });

    return {
      records: page.map(recordView),
      ...(rows.length > limit && last ? { nextCursor: encodeCursor(last.seq) } : {}),
    };
  }
}
