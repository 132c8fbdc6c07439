import { Body, Controller, Delete, Get, Headers, Param, Post, Put, Query } from '@nestjs/common';
import { ApiHeader, ApiQuery, ApiTags } from '@nestjs/swagger';
import {
  PluginConfigHistoryReply,
  PluginConfigView,
  PluginListReply,
  PluginManifest,
  PluginTransitionReply,
  PluginValidateReply,
  PluginView,
  RegistrationTokenCreated,
  RegistrationTokenCreateRequest,
  subjects,
} from '@vivified/contracts';

import type { EdgeCaller } from '../core/core-api';
import { CoreApi } from '../core/core-api';
import { Caller } from '../http/caller.decorator';
import { Endpoint } from '../http/endpoint.decorator';

/** The header that carries a one-time registration token on `POST /v1/plugins`. */
const REGISTRATION_TOKEN_HEADER = 'x-registration-token';

/** A query-string integer as the contract wants it; anything else is passed on for the contract to refuse. */
const integer = (value: string | undefined): number | string | undefined =>
  value !== undefined && /^\d{1,9}$/.test(value) ? Number(value) : value;

/** The optional `{reason}` body of a lifecycle call. */
const reasonOf = (body: unknown): { reason?: unknown } =>
  typeof body === 'object' && body !== null && 'reason' in body ? { reason: body.reason } : {};

/** Plugin registration, lifecycle and config (ARCHITECTURE §7), onto the registry service. */
@ApiTags('plugins')
@Controller()
export class PluginsController {
  constructor(private readonly core: CoreApi) {}

  @Post('v1/plugins')
  @ApiHeader({
    name: REGISTRATION_TOKEN_HEADER,
    required: false,
    description: 'A one-time registration token an admin created, instead of a plugin manager login',
  })
  @Endpoint({
    summary:
      'Registers (or upgrades) a plugin from its manifest: active, or pending_approval when it asks for something ' +
      'sensitive. The call that makes it active answers its credentials, once. 400 lists every violation.',
    body: PluginManifest,
    reply: PluginTransitionReply,
    auth: true,
    credentialHeaders: [REGISTRATION_TOKEN_HEADER],
    status: 201,
  })
  register(
    @Body() manifest: unknown,
    @Headers(REGISTRATION_TOKEN_HEADER) registrationToken: string | undefined,
    @Caller() caller: EdgeCaller,
  ) {
    if (registrationToken !== undefined) {
      return this.core.call(
        subjects.registry.plugins.registerWithToken,
        { registrationToken, manifest },
        { ip: caller.ip },
      );
    }

    return this.core.call(subjects.registry.plugins.register, { manifest }, caller);
  }

  @Post('v1/plugins/validate')
  @Endpoint({
    summary: 'Dry run of a registration: every violation, and whether an approval would be needed.',
    body: PluginManifest,
    reply: PluginValidateReply,
    auth: true,
  })
  validate(@Body() manifest: unknown, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.registry.plugins.validate, { manifest }, caller);
  }

  @Post('v1/plugins/registration-tokens')
  @Endpoint({
    summary: 'Creates a one-time, expiring registration token (admins); the token is shown once.',
    body: RegistrationTokenCreateRequest,
    reply: RegistrationTokenCreated,
    auth: true,
    status: 201,
  })
  createRegistrationToken(@Body() body: unknown, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.registry.registrationTokens.create, body ?? {}, caller);
  }

  @Get('v1/plugins')
  @ApiQuery({ name: 'status', required: false, type: String })
  @Endpoint({
    summary: 'Every plugin with its state and health; never a secret.',
    reply: PluginListReply,
    auth: true,
  })
  list(@Query('status') status: string | undefined, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.registry.plugins.list, status === undefined ? {} : { status }, caller);
  }

  @Get('v1/plugins/:id')
  @Endpoint({
    summary: 'One plugin with its manifest and a pending upgrade; never a secret.',
    reply: PluginView,
    auth: true,
  })
  get(@Param('id') pluginId: string, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.registry.plugins.get, { pluginId }, caller);
  }

  @Post('v1/plugins/:id/approve')
  @Endpoint({
    summary:
      'Approves a pending plugin (credentials once) or a pending upgrade; sensitive traits need an admin or ' +
      'security admin.',
    reply: PluginTransitionReply,
    auth: true,
  })
  approve(@Param('id') pluginId: string, @Body() body: unknown, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.registry.plugins.approve, { pluginId, ...reasonOf(body) }, caller);
  }

  @Post('v1/plugins/:id/enable')
  @Endpoint({
    summary: 'Validates a disabled plugin again and re-activates it; new credentials, once.',
    reply: PluginTransitionReply,
    auth: true,
  })
  enable(@Param('id') pluginId: string, @Body() body: unknown, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.registry.plugins.enable, { pluginId, ...reasonOf(body) }, caller);
  }

  @Post('v1/plugins/:id/disable')
  @Endpoint({
    summary: 'Disables a plugin: refused everywhere within a second, its credentials revoked.',
    reply: PluginTransitionReply,
    auth: true,
  })
  disable(@Param('id') pluginId: string, @Body() body: unknown, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.registry.plugins.disable, { pluginId, ...reasonOf(body) }, caller);
  }

  @Delete('v1/plugins/:id')
  @Endpoint({
    summary: 'Revokes a plugin: removed with its config, refused everywhere, its credentials revoked.',
    reply: PluginTransitionReply,
    auth: true,
  })
  remove(@Param('id') pluginId: string, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.registry.plugins.delete, { pluginId }, caller);
  }

  @Get('v1/plugins/:id/config')
  @ApiQuery({ name: 'version', required: false, type: Number })
  @Endpoint({
    summary: "A plugin's config (or one version of it); secret fields are named, never answered.",
    reply: PluginConfigView,
    auth: true,
  })
  config(
    @Param('id') pluginId: string,
    @Query('version') version: string | undefined,
    @Caller() caller: EdgeCaller,
  ) {
    return this.core.call(
      subjects.registry.plugins.config.get,
      { pluginId, ...(version === undefined ? {} : { version: integer(version) }) },
      caller,
    );
  }

  @Put('v1/plugins/:id/config')
  @Endpoint({
    summary:
      "Sets a new version of a plugin's config ({values, reason}), validated against its schema; secret fields " +
      'are encrypted at rest, a secret left out keeps its value, null clears it.',
    reply: PluginConfigView,
    auth: true,
  })
  putConfig(@Param('id') pluginId: string, @Body() body: unknown, @Caller() caller: EdgeCaller) {
    const fields = typeof body === 'object' && body !== null ? body : {};

    return this.core.call(subjects.registry.plugins.config.put, { ...fields, pluginId }, caller);
  }

  @Get('v1/plugins/:id/config/history')
  @Endpoint({
    summary: "Who changed a plugin's config, when and why, newest first.",
    reply: PluginConfigHistoryReply,
    auth: true,
  })
  configHistory(@Param('id') pluginId: string, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.registry.plugins.config.history, { pluginId }, caller);
  }
}
