import { Controller } from '@nestjs/common';
import type {
  PasskeyList,
  PasskeyLoginOptionsReply,
  PasskeyLoginReply,
  PasskeyRegisterOptionsReply,
  PasskeyRemoveReply,
  PasskeySummary,
} from '@vivified/contracts';
import {
  ErrorCode,
  PasskeyListRequest,
  PasskeyLoginOptionsRequest,
  PasskeyLoginVerifyRequest,
  PasskeyRegisterOptionsRequest,
  PasskeyRegisterVerifyRequest,
  PasskeyRemoveRequest,
  subjects,
  VivifiedError,
} from '@vivified/contracts';
import { Ctx, Payload } from '@nestjs/microservices';
import { Handle, NatsRequestContext } from '@vivified/nats-transport';

import { PasskeyLoginService } from './passkey-login.service';
import { PasskeyRegistrationService } from './passkey-registration.service';

/** The signed-in user calling; the guard has already enforced `kinds: ['user']`. */
function callerId(ctx: NatsRequestContext): string {
  if (ctx.principal?.kind !== 'user') {
    throw new VivifiedError(ErrorCode.Unauthenticated, 'a signed-in user is required');
  }

  return ctx.principal.id;
}

@Controller()
export class WebauthnHandlers {
  constructor(
    private readonly registration: PasskeyRegistrationService,
    private readonly login: PasskeyLoginService,
  ) {}

  @Handle(subjects.identity.webauthn.registerOptions)
  registerOptions(
    @Payload() _request: PasskeyRegisterOptionsRequest,
    @Ctx() ctx: NatsRequestContext,
  ): Promise<PasskeyRegisterOptionsReply> {
    return this.registration.options(callerId(ctx));
  }

  @Handle(subjects.identity.webauthn.registerVerify)
  registerVerify(
    @Payload() request: PasskeyRegisterVerifyRequest,
    @Ctx() ctx: NatsRequestContext,
  ): Promise<PasskeySummary> {
    return this.registration.register(callerId(ctx), request.ceremonyId, request.credential, request.label);
  }

  @Handle(subjects.identity.webauthn.loginOptions)
  loginOptions(@Payload() request: PasskeyLoginOptionsRequest): Promise<PasskeyLoginOptionsReply> {
    return this.login.options(request.username);
  }

  @Handle(subjects.identity.webauthn.loginVerify)
  loginVerify(@Payload() request: PasskeyLoginVerifyRequest): Promise<PasskeyLoginReply> {
    return this.login.login(request.ceremonyId, request.credential, {
      ...(request.ip ? { ip: request.ip } : {}),
      ...(request.userAgent ? { userAgent: request.userAgent } : {}),
    });
  }

  @Handle(subjects.identity.webauthn.listCredentials)
  list(@Payload() _request: PasskeyListRequest, @Ctx() ctx: NatsRequestContext): Promise<PasskeyList> {
    return this.registration.list(callerId(ctx));
  }

  @Handle(subjects.identity.webauthn.removeCredential)
  remove(
    @Payload() request: PasskeyRemoveRequest,
    @Ctx() ctx: NatsRequestContext,
  ): Promise<PasskeyRemoveReply> {
    return this.registration.remove(callerId(ctx), request.id);
  }
}
