import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';

import { defineRpc, PUBLIC } from '../rpc';
import type { ServiceName } from '../subjects';
import { serviceNames, subjects } from '../subjects';
import { AccessToken, JwksEntry, TokenPair } from './tokens';

/** A plugin id as the manifest defines it (ARCHITECTURE §6). */
const PLUGIN_ID = /^[a-z][a-z0-9-]{2,62}$/;

/** A trait name as the vocabulary spells it. */
const TRAIT = /^[a-z][a-z0-9_]{0,63}$/;

/** Reply of `identity.auth.logout`: always empty, whether or not the token named a session (no oracle). */
export class LogoutReply {}

/** Reply of `identity.api-key.revoke`. */
export class RevokeApiKeyReply {}

/** Request of `identity.auth.refresh`. */
export class RefreshRequest {
  /** The refresh token of the last {@link TokenPair}; single use. */
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  refreshToken!: string;
}

/** Request of `identity.auth.logout`. */
export class LogoutRequest {
  /** The refresh token of the session to end. */
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  refreshToken!: string;
}

/** Request of `identity.token.plugin`: a plugin's credentials. */
export class PluginTokenRequest {
  /** The plugin id. */
  @IsString()
  @Matches(PLUGIN_ID)
  pluginId!: string;

  /** The client secret the plugin was given once, on activation. */
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  clientSecret!: string;
}

/** Request of `identity.token.service`: a core service's shared secret. */
export class ServiceTokenRequest {
  /** The calling core service. */
  @IsIn(serviceNames)
  service!: ServiceName;

  /** `VIVIFIED_SERVICE_SECRET`. */
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  secret!: string;
}

/** Request of `identity.token.api-key`. */
export class ApiKeyTokenRequest {
  /** The API key (`viv_…`), as shown once when it was created. */
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  apiKey!: string;
}

/** Request of `identity.key.jwks`: no fields. */
export class JwksRequest {}

/** The public signing keys, current and still verifying (RFC 7517 JWK Set plus `createdAt`/`retiresAt`). */
export class JwksReply {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => JwksEntry)
  keys!: JwksEntry[];
}

/** Request of `identity.key.rotate`: no fields. */
export class RotateKeyRequest {}

/** Reply of `identity.key.rotate`. */
export class RotateKeyReply {
  /** The new current key. */
  @IsString()
  kid!: string;

  /** The key it replaced, which keeps verifying until {@link RotateKeyReply.previousRetiresAt}. */
  @IsOptional()
  @IsString()
  previousKid?: string;

  /** When the replaced key stops verifying (ISO 8601). */
  @IsOptional()
  @IsISO8601()
  previousRetiresAt?: string;
}

/** Request of `identity.plugin-credential.issue` and `.revoke`. */
export class PluginCredentialRequest {
  /** The plugin id. */
  @IsString()
  @Matches(PLUGIN_ID)
  pluginId!: string;
}

/** A plugin's new client secret; shown once, identity keeps only a keyed hash. */
export class PluginCredential {
  @IsString()
  pluginId!: string;

  /** 256-bit random secret, base64url. Replaces any earlier secret of the plugin. */
  @IsString()
  clientSecret!: string;
}

/** Reply of `identity.plugin-credential.revoke`. */
export class PluginCredentialRevoked {
  @IsString()
  pluginId!: string;

  /** False when the plugin had no active secret. */
  @IsBoolean()
  revoked!: boolean;
}

/** Request of `identity.api-key.create`. */
export class CreateApiKeyRequest {
  /** A label for the owner. */
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name!: string;

  /** Traits the key may use; each must be one of the owner's traits. Tokens get owner's traits ∩ scopes. */
  @IsArray()
  @ArrayUnique()
  @ArrayMinSize(1)
  @ArrayMaxSize(64)
  @Matches(TRAIT, { each: true })
  scopes!: string[];

  /**
   * Days until the key expires.
   * @default 90
   */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(365)
  expiresInDays?: number;
}

/** Reply of `identity.api-key.create`: the key itself is shown this once. */
export class CreatedApiKey {
  @IsUUID()
  id!: string;

  /** `viv_<random>`; identity keeps only a keyed hash. */
  @IsString()
  apiKey!: string;

  @IsString()
  name!: string;

  @IsArray()
  @IsString({ each: true })
  scopes!: string[];

  /** ISO 8601. */
  @IsISO8601()
  expiresAt!: string;
}

/** One of the caller's API keys, without the key. */
export class ApiKeySummary {
  @IsUUID()
  id!: string;

  @IsString()
  name!: string;

  @IsArray()
  @IsString({ each: true })
  scopes!: string[];

  /** ISO 8601. */
  @IsISO8601()
  createdAt!: string;

  /** ISO 8601. */
  @IsISO8601()
  expiresAt!: string;

  /** ISO 8601; absent when never used. */
  @IsOptional()
  @IsISO8601()
  lastUsedAt?: string;

  /** ISO 8601; absent while not revoked. */
  @IsOptional()
  @IsISO8601()
  revokedAt?: string;
}

/** Request of `identity.api-key.list`: no fields. */
export class ListApiKeysRequest {}

/** Reply of `identity.api-key.list`: the caller's keys, newest first. */
export class ApiKeyList {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => ApiKeySummary)
  keys!: ApiKeySummary[];
}

/** Request of `identity.api-key.revoke`. */
export class RevokeApiKeyRequest {
  /** Id of one of the caller's keys. */
  @IsUUID()
  id!: string;
}

/**
 * Request/reply contracts of identity's tokens: refresh, logout, plugin/service/API-key tokens, JWKS, key
 * rotation, plugin credentials and API keys (ARCHITECTURE §4, ADR-0005).
 */
export const tokensContracts = {
  [subjects.identity.auth.refresh]: defineRpc({
    subject: subjects.identity.auth.refresh,
    request: RefreshRequest,
    reply: TokenPair,
    access: PUBLIC,
    summary: 'Rotates a refresh token into a new token pair; a reused refresh token ends its session.',
  }),
  [subjects.identity.auth.logout]: defineRpc({
    subject: subjects.identity.auth.logout,
    request: LogoutRequest,
    reply: LogoutReply,
    access: PUBLIC,
    summary: 'Ends the session of a refresh token; answers {} whatever the token.',
  }),
  [subjects.identity.tokens.plugin]: defineRpc({
    subject: subjects.identity.tokens.plugin,
    request: PluginTokenRequest,
    reply: AccessToken,
    access: PUBLIC,
    summary: "Exchanges an active plugin's id and client secret for a 1 h plugin token with its traits.",
  }),
  [subjects.identity.tokens.service]: defineRpc({
    subject: subjects.identity.tokens.service,
    request: ServiceTokenRequest,
    reply: AccessToken,
    access: PUBLIC,
    summary: 'Exchanges the core service secret for a 1 h service token.',
  }),
  [subjects.identity.tokens.apiKey]: defineRpc({
    subject: subjects.identity.tokens.apiKey,
    request: ApiKeyTokenRequest,
    reply: AccessToken,
    access: PUBLIC,
    summary: "Exchanges an API key for a 15 min access token with the owner's traits narrowed to its scopes.",
  }),
  [subjects.identity.keys.jwks]: defineRpc({
    subject: subjects.identity.keys.jwks,
    request: JwksRequest,
    reply: JwksReply,
    access: PUBLIC,
    summary: 'The public keys that verify tokens (JWKS).',
    timeoutMs: 2_000,
  }),
  [subjects.identity.keys.rotate]: defineRpc({
    subject: subjects.identity.keys.rotate,
    request: RotateKeyRequest,
    reply: RotateKeyReply,
    access: {
      action: 'identity.key.rotate',
      anyTrait: ['security_admin'],
      kinds: ['user'],
    },
    summary: 'Makes a new signing key current; the previous one verifies until its tokens have expired.',
  }),
  [subjects.identity.pluginCredentials.issue]: defineRpc({
    subject: subjects.identity.pluginCredentials.issue,
    request: PluginCredentialRequest,
    reply: PluginCredential,
    access: { action: 'identity.plugin-credential.issue', kinds: ['service'] },
    summary: "Creates or replaces a plugin's client secret, answered once (core services only).",
  }),
  [subjects.identity.pluginCredentials.revoke]: defineRpc({
    subject: subjects.identity.pluginCredentials.revoke,
    request: PluginCredentialRequest,
    reply: PluginCredentialRevoked,
    access: { action: 'identity.plugin-credential.revoke', kinds: ['service'] },
    summary: "Revokes a plugin's client secret (core services only).",
  }),
  [subjects.identity.apiKeys.create]: defineRpc({
    subject: subjects.identity.apiKeys.create,
    request: CreateApiKeyRequest,
    reply: CreatedApiKey,
    access: { action: 'identity.api-key.create', kinds: ['user'] },
    summary: 'Creates an API key of the caller scoped to some of its traits; the key is answered once.',
  }),
  [subjects.identity.apiKeys.list]: defineRpc({
    subject: subjects.identity.apiKeys.list,
    request: ListApiKeysRequest,
    reply: ApiKeyList,
    access: { action: 'identity.api-key.list', kinds: ['user'] },
    summary: "The caller's API keys, without the keys.",
  }),
  [subjects.identity.apiKeys.revoke]: defineRpc({
    subject: subjects.identity.apiKeys.revoke,
    request: RevokeApiKeyRequest,
    reply: RevokeApiKeyReply,
    access: { action: 'identity.api-key.revoke', kinds: ['user'] },
    summary: "Revokes one of the caller's API keys.",
  }),
} as const;
