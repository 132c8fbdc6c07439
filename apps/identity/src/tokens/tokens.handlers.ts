import { Controller, Inject } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import {
  AccessToken,
  ApiKeyList,
  ApiKeyTokenRequest,
  CreateApiKeyRequest,
  CreatedApiKey,
  JwksReply,
  LogoutReply,
  LogoutRequest,
  PluginCredential,
  PluginCredentialRequest,
  PluginCredentialRevoked,
  PluginTokenRequest,
  RefreshRequest,
  RevokeApiKeyReply,
  RevokeApiKeyRequest,
  RotateKeyReply,
  ServiceTokenRequest,
  subjects,
  TokenPair,
} from '@vivified/contracts';
import { Handle, NatsRequestContext } from '@vivified/nats-transport';

import type { InteractiveSessions } from '../identity.ports';
import { INTERACTIVE_SESSIONS } from '../identity.ports';
import { ApiKeysService } from './api-keys.service';
import { PluginCredentialsService } from './plugin-credentials.service';
import { principalOf } from './principal';
import { ServiceTokensService } from './service-tokens.service';
import { SessionsService } from './sessions.service';
import { SigningKeysService } from './signing-keys.service';

/** Refresh and logout. */
@Controller()
export class SessionsHandlers {
  constructor(private readonly sessions: SessionsService) {}

  @Handle(subjects.identity.auth.refresh)
  refresh(@Payload() body: RefreshRequest): Promise<TokenPair> {
    return this.sessions.refresh(body.refreshToken);
  }

  @Handle(subjects.identity.auth.logout)
  async logout(@Payload() body: LogoutRequest): Promise<LogoutReply> {
    return this.sessions.logout(body.refreshToken).then(() => ({}));
  }
}

/** JWKS and key rotation. */
@Controller()
export class KeysHandlers {
  constructor(private readonly keys: SigningKeysService) {}

  @Handle(subjects.identity.keys.jwks)
  async jwks(): Promise<JwksReply> {
    return { keys: await this.keys.jwks() };
  }

  @Handle(subjects.identity.keys.rotate)
  rotate(@Ctx() ctx: NatsRequestContext): Promise<RotateKeyReply> {
    return this.keys.rotate(principalOf(ctx));
  }
}

/** Plugin credentials and plugin and service tokens. */
@Controller()
export class MachineTokensHandlers {
  constructor(
    private readonly plugins: PluginCredentialsService,
    private readonly services: ServiceTokensService,
  ) {}

  @Handle(subjects.identity.pluginCredentials.issue)
  issue(@Payload() body: PluginCredentialRequest, @Ctx() ctx: NatsRequestContext): Promise<PluginCredential> {
    return this.plugins.issue(body.pluginId, principalOf(ctx));
  }

  @Handle(subjects.identity.pluginCredentials.revoke)
  revoke(
    @Payload() body: PluginCredentialRequest,
    @Ctx() ctx: NatsRequestContext,
  ): Promise<PluginCredentialRevoked> {
    return this.plugins.revoke(body.pluginId, principalOf(ctx));
  }

  @Handle(subjects.identity.tokens.plugin)
  plugin(@Payload() body: PluginTokenRequest): Promise<AccessToken> {
    return this.plugins.token(body.pluginId, body.clientSecret);
  }

  @Handle(subjects.identity.tokens.service)
  service(@Payload() body: ServiceTokenRequest): Promise<AccessToken> {
    return this.services.token(body.service, body.secret);
  }
}

/** A user's API keys and their exchange for tokens; creating and revoking keys needs an interactive session. */
@Controller()
export class ApiKeysHandlers {
  constructor(
    private readonly apiKeys: ApiKeysService,
    @Inject(INTERACTIVE_SESSIONS) private readonly interactive: InteractiveSessions,
  ) {}

  @Handle(subjects.identity.apiKeys.create)
  async create(@Payload() body: CreateApiKeyRequest, @Ctx() ctx: NatsRequestContext): Promise<CreatedApiKey> {
    return this.apiKeys.create(await this.interactive.caller(ctx, 'api_key.create'), body);
  }

  @Handle(subjects.identity.apiKeys.list)
  list(@Ctx() ctx: NatsRequestContext): Promise<ApiKeyList> {
    return this.apiKeys.list(principalOf(ctx));
  }

  @Handle(subjects.identity.apiKeys.revoke)
  async revoke(
    @Payload() body: RevokeApiKeyRequest,
    @Ctx() ctx: NatsRequestContext,
  ): Promise<RevokeApiKeyReply> {
    const caller = await this.interactive.caller(ctx, 'api_key.revoke');

    return this.apiKeys.revoke(caller, body.id).then(() => ({}));
  }

  @Handle(subjects.identity.tokens.apiKey)
  token(@Payload() body: ApiKeyTokenRequest): Promise<AccessToken> {
    return this.apiKeys.token(body.apiKey);
  }
}
