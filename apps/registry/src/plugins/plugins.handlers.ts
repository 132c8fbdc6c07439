import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import {
  PluginIdRequest,
  PluginListReply,
  PluginListRequest,
  PluginNatsCredentialsReply,
  PluginRegisterRequest,
  PluginRegisterWithTokenRequest,
  PluginTransitionReply,
  PluginTransitionRequest,
  PluginValidateReply,
  PluginValidateRequest,
  PluginView,
  RegistrationTokenCreated,
  RegistrationTokenCreateRequest,
  subjects,
} from '@vivified/contracts';
import { Handle, NatsRequestContext } from '@vivified/nats-transport';

import { principalOf } from './principal';
import { PluginsService } from './plugins.service';
import { RegistrationTokensService } from './registration-tokens.service';

/** Registration, validation, reading and the lifecycle of plugins. */
@Controller()
export class PluginsHandlers {
  constructor(private readonly plugins: PluginsService) {}

  @Handle(subjects.registry.plugins.register)
  register(
    @Payload() body: PluginRegisterRequest,
    @Ctx() ctx: NatsRequestContext,
  ): Promise<PluginTransitionReply> {
    return this.plugins.register(body.manifest, { kind: 'user', principal: principalOf(ctx) });
  }

  @Handle(subjects.registry.plugins.registerWithToken)
  registerWithToken(@Payload() body: PluginRegisterWithTokenRequest): Promise<PluginTransitionReply> {
    return this.plugins.register(body.manifest, { kind: 'token', token: body.registrationToken });
  }

  @Handle(subjects.registry.plugins.validate)
  validate(@Payload() body: PluginValidateRequest): Promise<PluginValidateReply> {
    return this.plugins.validate(body.manifest);
  }

  @Handle(subjects.registry.plugins.list)
  list(@Payload() body: PluginListRequest): Promise<PluginListReply> {
    return this.plugins.list(body.status);
  }

  @Handle(subjects.registry.plugins.get)
  get(@Payload() body: PluginIdRequest): Promise<PluginView> {
    return this.plugins.get(body.pluginId);
  }

  @Handle(subjects.registry.plugins.approve)
  approve(
    @Payload() body: PluginTransitionRequest,
    @Ctx() ctx: NatsRequestContext,
  ): Promise<PluginTransitionReply> {
    return this.plugins.approve(body.pluginId, principalOf(ctx), body.reason);
  }

  @Handle(subjects.registry.plugins.enable)
  enable(
    @Payload() body: PluginTransitionRequest,
    @Ctx() ctx: NatsRequestContext,
  ): Promise<PluginTransitionReply> {
    return this.plugins.enable(body.pluginId, principalOf(ctx), body.reason);
  }

  @Handle(subjects.registry.plugins.disable)
  disable(
    @Payload() body: PluginTransitionRequest,
    @Ctx() ctx: NatsRequestContext,
  ): Promise<PluginTransitionReply> {
    return this.plugins.disable(body.pluginId, principalOf(ctx), body.reason);
  }

  @Handle(subjects.registry.plugins.natsCredentials)
  renewNatsCredentials(
    @Payload() body: PluginIdRequest,
    @Ctx() ctx: NatsRequestContext,
  ): Promise<PluginNatsCredentialsReply> {
    return this.plugins.renewNatsCredentials(body.pluginId, principalOf(ctx));
  }

  @Handle(subjects.registry.plugins.delete)
  remove(
    @Payload() body: PluginTransitionRequest,
    @Ctx() ctx: NatsRequestContext,
  ): Promise<PluginTransitionReply> {
    return this.plugins.remove(body.pluginId, principalOf(ctx), body.reason);
  }
}

/** Registration tokens (admins). */
@Controller()
export class RegistrationTokensHandlers {
  constructor(private readonly tokens: RegistrationTokensService) {}

  @Handle(subjects.registry.registrationTokens.create)
  create(
    @Payload() body: RegistrationTokenCreateRequest,
    @Ctx() ctx: NatsRequestContext,
  ): Promise<RegistrationTokenCreated> {
    return this.tokens.create(body, principalOf(ctx));
  }
}
