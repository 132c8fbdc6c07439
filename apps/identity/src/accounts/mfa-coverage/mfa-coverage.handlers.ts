import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { MfaCoverageRequest, subjects } from '@vivified/contracts';
import type { MfaCoverageReply } from '@vivified/contracts';
import { Handle } from '@vivified/nats-transport';

import { MfaCoverageService } from './mfa-coverage.service';

/** MFA coverage for the compliance report; the sidecar admits core services, auditors and admins only. */
@Controller()
export class MfaCoverageHandlers {
  constructor(private readonly coverage: MfaCoverageService) {}

  @Handle(subjects.identity.users.mfaCoverage)
  report(@Payload() _body: MfaCoverageRequest): Promise<MfaCoverageReply> {
    return this.coverage.coverage();
  }
}
