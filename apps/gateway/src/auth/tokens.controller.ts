import { Body, Controller, Delete, Get, Header, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  AccessToken,
  ApiKeyList,
  CreateApiKeyRequest,
  CreatedApiKey,
  JwksReply,
  PluginTokenRequest,
  RotateKeyReply,
  subjects,
} from '@vivified/contracts';

import type { EdgeCaller } from '../core/core-api';
import { CoreApi } from '../core/core-api';
import { Caller } from '../http/caller.decorator';
import { Endpoint } from '../http/endpoint.decorator';

/** Signing keys, plugin tokens and API keys. */
@ApiTags('tokens')
@Controller()
export class TokensController {
  constructor(private readonly core: CoreApi) {}

  @Get('.well-known/jwks.json')
  @Header('cache-control', 'public, max-age=60')
  @Endpoint({ summary: 'The public keys that verify every token (JWKS).', reply: JwksReply, auth: false })
  async jwks() {
    const { keys } = await this.core.call(subjects.identity.keys.jwks, {}, { ip: '' });

    // the JWKS document carries the JWK members only
    return { keys: keys.map(({ kty, crv, x, kid, alg, use }) => ({ kty, crv, x, kid, alg, use })) };
  }

  @Post('v1/keys/rotate')
  @Endpoint({
    summary: 'Makes a new signing key current; old keys verify until their tokens expire.',
    reply: RotateKeyReply,
    auth: true,
  })
  rotate(@Caller() caller: EdgeCaller) {
    return this.core.call(subjects.identity.keys.rotate, {}, caller);
  }

  @Post('v1/plugins/token')
  @Endpoint({
    summary: 'Exchanges a plugin id and client secret for a plugin token (1 h).',
    body: PluginTokenRequest,
    reply: AccessToken,
    auth: false,
    login: true,
  })
  pluginToken(@Body() body: unknown, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.identity.tokens.plugin, body, { ip: caller.ip });
  }

  @Get('v1/api-keys')
  @Endpoint({ summary: "The caller's API keys (never the keys themselves).", reply: ApiKeyList, auth: true })
  apiKeys(@Caller() caller: EdgeCaller) {
    return this.core.call(subjects.identity.apiKeys.list, {}, caller);
  }

  @Post('v1/api-keys')
  @Endpoint({
    summary: 'Creates an API key with scopes and an expiry; the key is shown once.',
    body: CreateApiKeyRequest,
    reply: CreatedApiKey,
    auth: true,
    status: 201,
  })
  createApiKey(@Body() body: unknown, @Caller() caller: EdgeCaller) {
    return this.core.call(subjects.identity.apiKeys.create, body, caller);
  }

  @Delete('v1/api-keys/:id')
  @Endpoint({ summary: "Revokes one of the caller's API keys.", auth: true, status: 204 })
  async revokeApiKey(@Param('id') id: string, @Caller() caller: EdgeCaller): Promise<void> {
    await this.core.call(subjects.identity.apiKeys.revoke, { id }, caller);
  }
}
