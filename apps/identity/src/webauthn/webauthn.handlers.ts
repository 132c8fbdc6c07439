import { Controller, Inject } from '@nestjs/common';
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

import type { InteractiveSessions } from '../identity.ports';
import { INTERACTIVE_SESSIONS } from '../identity.ports';
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
    @Inject(INTERACTIVE_SESSIONS) private readonly interactive: InteractiveSessions,
  ) {}

  /** The caller of a passkey change, refused unless its token is of an interactive session (not an API key). */
  private async interactiveCallerId(ctx: NatsRequestContext, action: string): Promise<string> {
    return (await this.interactive.caller(ctx, action)).id;
  }

  @Handle(subjects.identity.webauthn.registerOptions)
  async registerOptions(
    @Payload() _request: PasskeyRegisterOptionsRequest,
    @Ctx() ctx: NatsRequestContext,
  ): Promise<PasskeyRegisterOptionsReply> {
    return this.registration.options(await this.interactiveCallerId(ctx, 'webauthn.register'));
  }

  @Handle(subjects.identity.webauthn.registerVerify)
  async registerVerify(
    @Payload() request: PasskeyRegisterVerifyRequest,
    @Ctx() ctx: NatsRequestContext,
  ): Promise<PasskeySummary> {
    return this.registration.register(
      await this.interactiveCallerId(ctx, 'webauthn.register'),
      request.ceremonyId,
      request.credential,
      request.label,
    );
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
  async remove(
    @Payload() request: PasskeyRemoveRequest,
    @Ctx() ctx: NatsRequestContext,
  ): Promise<PasskeyRemoveReply> {
    return this.registration.remove(await this.interactiveCallerId(ctx, 'webauthn.remove'), request.id);
  }
}
