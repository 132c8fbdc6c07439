import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import {
  BackupCodesRequest,
  subjects,
  TotpDisableRequest,
  TotpEnableRequest,
  TotpSetupRequest,
} from '@vivified/contracts';
import type {
  BackupCodesReply,
  TotpDisableReply,
  TotpEnableReply,
  TotpSetupReply,
} from '@vivified/contracts';
import { Handle, NatsRequestContext } from '@vivified/nats-transport';

import { userCaller } from '../caller';
import { InteractiveSessionGate } from '../sessions/interactive-session-gate';
import { MfaSettingsService } from './mfa-settings.service';
import { TotpEnrollmentService } from './totp-enrollment.service';

@Controller()
export class MfaHandlers {
  constructor(
    private readonly enrollment: TotpEnrollmentService,
    private readonly settings: MfaSettingsService,
    private readonly interactive: InteractiveSessionGate,
  ) {}

  @Handle(subjects.identity.mfa.totpSetup)
  setup(@Payload() body: TotpSetupRequest, @Ctx() ctx: NatsRequestContext): Promise<TotpSetupReply> {
    return this.enrollment.setup(body, ctx);
  }

  @Handle(subjects.identity.mfa.totpEnable)
  enable(@Payload() body: TotpEnableRequest, @Ctx() ctx: NatsRequestContext): Promise<TotpEnableReply> {
    return this.enrollment.enable(body, ctx);
  }

  @Handle(subjects.identity.mfa.totpDisable)
  async disable(
    @Payload() body: TotpDisableRequest,
    @Ctx() ctx: NatsRequestContext,
  ): Promise<TotpDisableReply> {
    return this.settings.disableTotp(
      userCaller(await this.interactive.caller(ctx, 'mfa.totp.disable')),
      body,
    );
  }

  @Handle(subjects.identity.mfa.backupCodes)
  async backupCodes(
    @Payload() _body: BackupCodesRequest,
    @Ctx() ctx: NatsRequestContext,
  ): Promise<BackupCodesReply> {
    return this.settings.regenerateBackupCodes(
      userCaller(await this.interactive.caller(ctx, 'mfa.backup-codes.regenerate')),
    );
  }
}
