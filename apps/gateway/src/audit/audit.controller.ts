import { Readable } from 'node:stream';

import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { AuditQueryReply } from '@vivified/contracts';
import {
  AuditQueryReply as AuditQueryReplyClass,
  auditQueryLimits,
  AuditVerifyReply,
  ComplianceReportReply,
  ErrorCode,
  subjects,
  VivifiedError,
} from '@vivified/contracts';
import type { FastifyReply } from 'fastify';

import type { EdgeCaller } from '../core/core-api';
import { CoreApi } from '../core/core-api';
import { Caller } from '../http/caller.decorator';
import { Endpoint } from '../http/endpoint.decorator';

/** Query-string filters of `GET /v1/audit` and the export, as the contract names them. */
const filterNames = [
  'from',
  'to',
  'category',
  'action',
  'outcome',
  'actor',
  'pluginId',
  'traceId',
  'cursor',
] as const;

type AuditQueryString = Partial<Record<(typeof filterNames)[number] | 'phiInvolved' | 'limit', string>>;

/** A query-string integer as the contract wants it; anything else is passed on for the contract to refuse. */
const integer = (value: string | undefined): number | string | undefined =>
  value !== undefined && /^\d{1,15}$/.test(value) ? Number(value) : value;

/** `true`/`false` as a boolean; anything else is passed on for the contract to refuse. */
const boolean = (value: string | undefined): boolean | string | undefined =>
  value === 'true' ? true : value === 'false' ? false : value;

function auditQuery(query: AuditQueryString): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of filterNames) {
    if (query[name] !== undefined) {
      out[name] = query[name];
    }
  }
  if (query.phiInvolved !== undefined) {
    out['phiInvolved'] = boolean(query.phiInvolved);
  }
  if (query.limit !== undefined) {
    out['limit'] = integer(query.limit);
  }

  return out;
}

const filterDocs = [
  ...filterNames.map((name) => ApiQuery({ name, required: false, type: String })),
  ApiQuery({ name: 'phiInvolved', required: false, type: Boolean }),
  ApiQuery({ name: 'limit', required: false, type: Number }),
];

const applyAll =
  (decorators: MethodDecorator[]): MethodDecorator =>
  (target, key, descriptor) => {
    for (const decorator of decorators) {
      decorator(target, key, descriptor);
    }
  };

/** The audit trail and the compliance report (ARCHITECTURE §7), for holders of audit_viewer. */
@ApiTags('audit')
@Controller()
export class AuditController {
  constructor(private readonly core: CoreApi) {}

  @Get('v1/audit')
  @applyAll(filterDocs)
  @Endpoint({
    summary: 'A page of audit records, newest first, with filters.',
    reply: AuditQueryReplyClass,
    auth: true,
  })
  list(@Query() query: AuditQueryString, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.audit.records.query, auditQuery(query), caller);
  }

  @Get('v1/audit/verify')
  @ApiQuery({ name: 'fromSeq', required: false, type: Number })
  @ApiQuery({ name: 'toSeq', required: false, type: Number })
  @Endpoint({
    summary: 'Checks the hash chain and the signed checkpoints; names the first broken row.',
    reply: AuditVerifyReply,
    auth: true,
  })
  verify(
    @Query('fromSeq') fromSeq: string | undefined,
    @Query('toSeq') toSeq: string | undefined,
    @Caller() caller: EdgeCaller,
  ) {
    const range = {
      ...(fromSeq === undefined ? {} : { fromSeq: integer(fromSeq) }),
      ...(toSeq === undefined ? {} : { toSeq: integer(toSeq) }),
    };

    return this.core.call(subjects.audit.records.verify, range, caller);
  }

  @Get('v1/audit/export')
  @applyAll(filterDocs)
  @ApiProduces('application/x-ndjson')
  @Endpoint({
    summary: 'Every matching audit record, one JSON object per line (NDJSON), newest first.',
    auth: true,
  })
  async export(
    @Query() query: AuditQueryString,
    @Caller() caller: EdgeCaller,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const filters = { ...auditQuery(query), limit: auditQueryLimits.maxLimit };
    // the first page is asked before anything is sent, so a refusal is an ordinary error response
    const first = await this.core.call(subjects.audit.records.export, filters, caller);
    const pages = async function* (core: CoreApi): AsyncGenerator<string> {
      let page: AuditQueryReply = first;
      for (;;) {
        yield page.records.map((record) => `${JSON.stringify(record)}\n`).join('');
        if (!page.nextCursor) {
          return;
        }
        try {
          page = await core.call(
            subjects.audit.records.export,
            { ...filters, cursor: page.nextCursor },
            caller,
          );
        } catch (error) {
          // headers are gone: the failure is the last line
          const failure =
            error instanceof VivifiedError
              ? error
              : new VivifiedError(ErrorCode.Internal, 'export interrupted');
          yield `${JSON.stringify(failure.toEnvelope())}\n`;

          return;
        }
      }
    };
    await reply
      .header('content-type', 'application/x-ndjson; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(Readable.from(pages(this.core)));
  }

  @Get('v1/compliance/report')
  @Endpoint({
    summary: 'Evidence for each HIPAA 164.312 technical safeguard.',
    reply: ComplianceReportReply,
    auth: true,
  })
  report(@Caller() caller: EdgeCaller) {
    return this.core.call(subjects.audit.compliance.report, {}, caller);
  }
}
