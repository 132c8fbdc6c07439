import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import {
  AuditQueryRequest,
  AuditVerifyRequest,
  ComplianceReportRequest,
  subjects,
} from '@vivified/contracts';
import type { AuditQueryReply, AuditVerifyReply, ComplianceReportReply } from '@vivified/contracts';
import { Handle, NatsRequestContext } from '@vivified/nats-transport';

import { userActor } from './caller';
import { ComplianceService } from './compliance/compliance.service';
import { QueryService } from './query/query.service';
import { VerifyService } from './verify/verify.service';

@Controller()
export class AuditHandlers {
  constructor(
    private readonly query: QueryService,
    private readonly verifier: VerifyService,
    private readonly compliance: ComplianceService,
  ) {}

  @Handle(subjects.audit.records.query)
  records(@Payload() body: AuditQueryRequest, @Ctx() ctx: NatsRequestContext): Promise<AuditQueryReply> {
    return this.query.page(userActor(ctx.principal), body, 'audit.query');
  }

  @Handle(subjects.audit.records.export)
  exportPage(@Payload() body: AuditQueryRequest, @Ctx() ctx: NatsRequestContext): Promise<AuditQueryReply> {
    return this.query.page(userActor(ctx.principal), body, 'audit.export');
  }

  @Handle(subjects.audit.records.verify)
  verify(@Payload() body: AuditVerifyRequest, @Ctx() ctx: NatsRequestContext): Promise<AuditVerifyReply> {
    return this.verifier.verify(userActor(ctx.principal), body);
  }

  @Handle(subjects.audit.compliance.report)
  report(
    @Payload() _body: ComplianceReportRequest,
    @Ctx() ctx: NatsRequestContext,
  ): Promise<ComplianceReportReply> {
    return this.compliance.report(userActor(ctx.principal));
  }
}
