import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';

import type { Access } from '../rpc';
import { defineRpc, PUBLIC } from '../rpc';
import { subjects } from '../subjects';
import { PLUGIN_ID_PATTERN } from './manifest';
import type { PluginStatus } from './plugin-status';
import { pluginStatuses } from './plugin-status';

/** Health of an active plugin, from its heartbeats (issue 5). `unknown`: no heartbeat yet. */
export const pluginHealthStates = ['unknown', 'healthy', 'degraded', 'unhealthy'] as const;

/** One health state. */
export type PluginHealth = (typeof pluginHealthStates)[number];

/** What a plugin may say about itself in a heartbeat. */
export const heartbeatStatuses = ['ok', 'degraded'] as const;

/** One self-reported heartbeat status. */
export type HeartbeatStatus = (typeof heartbeatStatuses)[number];

/** Bounds of registration tokens. */
export const registrationTokenLimits = {
  /** Shortest lifetime, in seconds. */
  minTtlSeconds: 60,
  /** Longest lifetime, in seconds (7 days). */
  maxTtlSeconds: 7 * 24 * 3600,
  /** Lifetime when none is asked for, in seconds (24 h). */
  defaultTtlSeconds: 24 * 3600,
} as const;

/** Users who may approve a manifest that asks for a sensitive trait (besides `plugin_manager`). */
export const sensitiveApproverTraits = ['admin', 'security_admin'] as const;

/** Users who may create registration tokens. */
export const registrationTokenCreatorTraits = ['admin'] as const;

/** Request of `registry.plugin.register`: a manifest, validated by the registry's security validator. */
export class PluginRegisterRequest {
  /** The manifest (ARCHITECTURE §6); every violation is listed in one `VALIDATION_FAILED` answer. */
  @IsObject()
  manifest!: Record<string, unknown>;
}

/** Request of `registry.plugin.register-with-token`: a manifest and a one-time registration token. */
export class PluginRegisterWithTokenRequest {
  /** The registration token an admin created; single use, expiring. */
  @IsString()
  @MinLength(16)
  @MaxLength(128)
  registrationToken!: string;

  /** The manifest (ARCHITECTURE §6). */
  @IsObject()
  manifest!: Record<string, unknown>;
}

/** Request of `registry.plugin.validate` (dry run). */
export class PluginValidateRequest {
  /** The manifest to check. */
  @IsObject()
  manifest!: Record<string, unknown>;
}

/** Sensitive requests of a manifest: what needs an approval. */
export class PluginSensitiveView {
  /** Sensitive traits asked for (`handles_phi`, `handles_pii`, `handles_confidential`, `external_service`). */
  @IsArray()
  @IsString({ each: true })
  traits!: string[];

  /** Allowed domains asked for (ASCII, lower-case). */
  @IsArray()
  @IsString({ each: true })
  domains!: string[];

  /** The webhook host of an `http` delivery. */
  @IsOptional()
  @IsString()
  webhookHost?: string;
}

/** One violation of a manifest. */
export class ManifestViolationView {
  /** Dotted path of the field; empty for the whole manifest. */
  @IsString()
  path!: string;

  /** Stable code (docs/plugin-manifest.md). */
  @IsString()
  code!: string;

  /** One sentence for the author. */
  @IsString()
  message!: string;
}

/** Reply of `registry.plugin.validate`. */
export class PluginValidateReply {
  /** True when the manifest passes every rule. */
  @IsBoolean()
  ok!: boolean;

  /** Every violation (empty when `ok`). */
  @ValidateNested({ each: true })
  @Type(() => ManifestViolationView)
  violations!: ManifestViolationView[];

  /** Whether registration would wait for an approval (only when `ok`). */
  @IsOptional()
  @IsBoolean()
  requiresApproval?: boolean;

  /** What needs the approval (only when `ok`). */
  @IsOptional()
  @ValidateNested()
  @Type(() => PluginSensitiveView)
  sensitive?: PluginSensitiveView;

  /** SHA-256 of the manifest's canonical JSON (only when `ok`). */
  @IsOptional()
  @IsString()
  manifestDigest?: string;
}

/** A plugin's credentials, answered once by the call that makes it active. */
export class PluginCredentialsView {
  /** The client secret exchanged at `POST /v1/plugins/token` for plugin tokens; replaces any earlier one. */
  @IsString()
  clientSecret!: string;

  /** NATS user credentials (a `.creds` file's content) with the plugin's own permissions; absent when not issued. */
  @IsOptional()
  @IsString()
  natsCreds?: string;
}

/** Reply of the calls that change a plugin's state (register, approve, enable, disable, delete). */
export class PluginTransitionReply {
  /** Plugin id. */
  @IsString()
  id!: string;

  /** Its lifecycle state after the call. */
  @IsIn(pluginStatuses)
  status!: PluginStatus;

  /** The version in force (the approved one; an upgrade waiting for approval is not in force). */
  @IsString()
  version!: string;

  /** True when a re-registration (upgrade) waits for an approval; the approved version keeps running. */
  @IsOptional()
  @IsBoolean()
  upgradePending?: boolean;

  /** Credentials, once, when this call made the plugin active. */
  @IsOptional()
  @ValidateNested()
  @Type(() => PluginCredentialsView)
  credentials?: PluginCredentialsView;
}

/** A request naming one plugin. */
export class PluginIdRequest {
  /** Plugin id. */
  @IsString()
  @Matches(PLUGIN_ID_PATTERN)
  pluginId!: string;
}

/** Request of approve, enable, disable and delete. */
export class PluginTransitionRequest extends PluginIdRequest {
  /** Why, for the audit trail. */
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

/** Request of `registry.plugin.list`. */
export class PluginListRequest {
  /** Only plugins in this state. */
  @IsOptional()
  @IsIn(pluginStatuses)
  status?: PluginStatus;
}

/** A plugin as lists show it: never a secret, token or credential. */
export class PluginSummary {
  @IsString()
  id!: string;

  @IsString()
  name!: string;

  /** The version in force. */
  @IsString()
  version!: string;

  @IsIn(pluginStatuses)
  status!: PluginStatus;

  /** Approved traits (canonical names). */
  @IsArray()
  @IsString({ each: true })
  traits!: string[];

  /** Health from heartbeats. */
  @IsIn(pluginHealthStates)
  health!: PluginHealth;

  /** The last heartbeat (ISO 8601). */
  @IsOptional()
  @IsISO8601()
  lastHeartbeatAt?: string;

  /** True when an upgrade waits for approval. */
  @IsBoolean()
  upgradePending!: boolean;

  /** Last change (ISO 8601). */
  @IsISO8601()
  updatedAt!: string;
}

/** An upgrade waiting for an approval. */
export class PluginPendingUpgradeView {
  @IsString()
  version!: string;

  @IsString()
  manifestDigest!: string;

  /** What it asks for that needs the approval. */
  @ValidateNested()
  @Type(() => PluginSensitiveView)
  sensitive!: PluginSensitiveView;

  /** The manifest of the upgrade. */
  @IsObject()
  manifest!: Record<string, unknown>;
}

/** One plugin in full: its approved manifest, who registered and approved it, a pending upgrade. */
export class PluginView extends PluginSummary {
  @IsString()
  description!: string;

  /** SHA-256 of the manifest in force. */
  @IsString()
  manifestDigest!: string;

  /** The manifest in force (a manifest holds no secret). */
  @IsObject()
  manifest!: Record<string, unknown>;

  /** What the manifest in force asks for that needed an approval. */
  @ValidateNested()
  @Type(() => PluginSensitiveView)
  sensitive!: PluginSensitiveView;

  /** `user:<id>` or `registration-token:<id>`. */
  @IsString()
  registeredBy!: string;

  @IsISO8601()
  registeredAt!: string;

  @IsOptional()
  @IsString()
  approvedBy?: string;

  @IsOptional()
  @IsISO8601()
  approvedAt?: string;

  /** An upgrade waiting for an approval. */
  @IsOptional()
  @ValidateNested()
  @Type(() => PluginPendingUpgradeView)
  pendingUpgrade?: PluginPendingUpgradeView;
}

/** Reply of `registry.plugin.list`. */
export class PluginListReply {
  @ValidateNested({ each: true })
  @Type(() => PluginSummary)
  plugins!: PluginSummary[];
}

/** Request of `registry.registration-token.create`. */
export class RegistrationTokenCreateRequest {
  /** Binds the token to one plugin id; only a token bound to an existing plugin's id may upgrade it. */
  @IsOptional()
  @IsString()
  @Matches(PLUGIN_ID_PATTERN)
  pluginId?: string;

  /**
   * Lifetime in seconds (60 to 604800).
   * @default 86400
   */
  @IsOptional()
  @IsInt()
  @Min(registrationTokenLimits.minTtlSeconds)
  @Max(registrationTokenLimits.maxTtlSeconds)
  ttlSeconds?: number;

  /** What the token is for, for the audit trail. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  note?: string;
}

/** A new registration token; shown once, the registry keeps only a keyed hash. */
export class RegistrationTokenCreated {
  /** Id of the token (for the audit trail). */
  @IsString()
  id!: string;

  /** The token: 256 random bits, base64url. */
  @IsString()
  token!: string;

  @IsOptional()
  @IsString()
  pluginId?: string;

  @IsISO8601()
  expiresAt!: string;
}

/** Request of `registry.heartbeat`: a plugin says it is alive (only for itself). */
export class PluginHeartbeatRequest extends PluginIdRequest {
  /**
   * How the plugin feels.
   * @default 'ok'
   */
  @IsOptional()
  @IsIn(heartbeatStatuses)
  status?: HeartbeatStatus;
}

/** Reply of `registry.heartbeat`. */
export class PluginHeartbeatReply {
  /** The plugin's health after this heartbeat. */
  @IsIn(pluginHealthStates)
  health!: PluginHealth;

  /** Seconds until the next heartbeat is due (the manifest's `healthCheck.intervalSeconds`). */
  @IsInt()
  intervalSeconds!: number;
}

/** Request of `registry.plugin-config.get`. */
export class PluginConfigGetRequest extends PluginIdRequest {
  /** A version of the history; the current one when absent. */
  @IsOptional()
  @IsInt()
  @Min(1)
  version?: number;
}

/** A plugin's config as users see it: secret fields are never answered, only named. */
export class PluginConfigView {
  @IsString()
  pluginId!: string;

  /** Version (1, 2, …); 0 when nothing was ever set. */
  @IsInt()
  version!: number;

  /** The values without the secret fields. */
  @IsObject()
  values!: Record<string, unknown>;

  /** Dotted paths of the secret fields that hold a value (encrypted at rest, never answered to users). */
  @IsArray()
  @IsString({ each: true })
  secretFields!: string[];

  /** Who set this version (`user:<id>`). */
  @IsOptional()
  @IsString()
  changedBy?: string;

  @IsOptional()
  @IsISO8601()
  changedAt?: string;

  /** Why. */
  @IsOptional()
  @IsString()
  reason?: string;
}

/** Request of `registry.plugin-config.put`: a new version of the whole config. */
export class PluginConfigPutRequest extends PluginIdRequest {
  /**
   * The config, validated against the manifest's `configSchema` when it has one. A secret field left out keeps
   * its current value; `null` clears it.
   */
  @IsObject()
  values!: Record<string, unknown>;

  /** Why, kept with the version. */
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  reason!: string;
}

/** One version of a plugin's config history. */
export class PluginConfigVersionView {
  @IsInt()
  version!: number;

  @IsString()
  changedBy!: string;

  @IsISO8601()
  changedAt!: string;

  @IsString()
  reason!: string;
}

/** Reply of `registry.plugin-config.history`, newest first. */
export class PluginConfigHistoryReply {
  @IsString()
  pluginId!: string;

  @ValidateNested({ each: true })
  @Type(() => PluginConfigVersionView)
  versions!: PluginConfigVersionView[];
}

/** A plugin's own config, secrets decrypted (answered to the plugin itself only). */
export class PluginConfigSelfReply {
  @IsString()
  pluginId!: string;

  @IsInt()
  version!: number;

  @IsObject()
  values!: Record<string, unknown>;
}

/** Reply of `registry.plugin.nats-credentials`: new NATS user credentials of the calling plugin. */
export class PluginNatsCredentialsReply {
  @IsString()
  pluginId!: string;

  /** The `.creds` text of a new user JWT; absent when the platform issues no NATS users (development mode). */
  @IsOptional()
  @IsString()
  natsCreds?: string;
}

/** Sent to a plugin on `vivified.v1.plugin.<id>.lifecycle` when the registry changes its state. */
export class PluginLifecycleMessage {
  @IsString()
  pluginId!: string;

  /** The new state; a plugin that is not `active` is refused everywhere and should stop. */
  @IsIn(pluginStatuses)
  status!: PluginStatus;

  /** What happened: `approved`, `enabled`, `disabled`, `revoked`, `upgraded`. */
  @IsString()
  event!: string;

  /** When (ISO 8601). */
  @IsISO8601()
  at!: string;
}

const user = (action: string, anyTrait?: readonly string[]): Access => ({
  action,
  kinds: ['user'],
  ...(anyTrait ? { anyTrait } : {}),
});

/** The registry's contracts, keyed by subject. Action names are the policy engine's platform actions. */
export const registryContracts = {
  [subjects.registry.plugins.register]: defineRpc({
    subject: subjects.registry.plugins.register,
    request: PluginRegisterRequest,
    reply: PluginTransitionReply,
    access: user('registry.plugin.register'),
    summary:
      'Registers (or upgrades) a plugin from its manifest: active, or pending approval when it asks for ' +
      'something sensitive; credentials once when it becomes active.',
    timeoutMs: 15_000,
  }),
  [subjects.registry.plugins.registerWithToken]: defineRpc({
    subject: subjects.registry.plugins.registerWithToken,
    request: PluginRegisterWithTokenRequest,
    reply: PluginTransitionReply,
    access: PUBLIC,
    summary: 'Registers a plugin with a one-time registration token an admin created.',
    timeoutMs: 15_000,
  }),
  [subjects.registry.plugins.validate]: defineRpc({
    subject: subjects.registry.plugins.validate,
    request: PluginValidateRequest,
    reply: PluginValidateReply,
    access: user('registry.plugin.validate'),
    summary: 'Dry run: every violation of a manifest, and whether it would need an approval.',
  }),
  [subjects.registry.plugins.list]: defineRpc({
    subject: subjects.registry.plugins.list,
    request: PluginListRequest,
    reply: PluginListReply,
    access: user('registry.plugin.list'),
    summary: 'Every plugin with its state and health; never a secret.',
  }),
  [subjects.registry.plugins.get]: defineRpc({
    subject: subjects.registry.plugins.get,
    request: PluginIdRequest,
    reply: PluginView,
    access: user('registry.plugin.read'),
    summary: 'One plugin with its manifest and a pending upgrade; never a secret.',
  }),
  [subjects.registry.plugins.approve]: defineRpc({
    subject: subjects.registry.plugins.approve,
    request: PluginTransitionRequest,
    reply: PluginTransitionReply,
    access: user('registry.plugin.approve'),
    summary:
      'Approves a pending plugin (credentials once) or a pending upgrade; sensitive traits need an admin or ' +
      'security admin.',
    timeoutMs: 15_000,
  }),
  [subjects.registry.plugins.enable]: defineRpc({
    subject: subjects.registry.plugins.enable,
    request: PluginTransitionRequest,
    reply: PluginTransitionReply,
    access: user('registry.plugin.enable'),
    summary: 'Re-validates and re-activates a disabled plugin; new credentials once.',
    timeoutMs: 15_000,
  }),
  [subjects.registry.plugins.disable]: defineRpc({
    subject: subjects.registry.plugins.disable,
    request: PluginTransitionRequest,
    reply: PluginTransitionReply,
    access: user('registry.plugin.disable'),
    summary: 'Disables a plugin: refused everywhere within a second, credentials revoked.',
    timeoutMs: 15_000,
  }),
  [subjects.registry.plugins.delete]: defineRpc({
    subject: subjects.registry.plugins.delete,
    request: PluginTransitionRequest,
    reply: PluginTransitionReply,
    access: user('registry.plugin.delete'),
    summary: 'Revokes and removes a plugin with its credentials and config.',
    timeoutMs: 15_000,
  }),
  [subjects.registry.registrationTokens.create]: defineRpc({
    subject: subjects.registry.registrationTokens.create,
    request: RegistrationTokenCreateRequest,
    reply: RegistrationTokenCreated,
    access: user('registry.registration-token.create', registrationTokenCreatorTraits),
    summary: 'Creates a one-time, expiring registration token (admins); shown once.',
  }),
  [subjects.registry.plugins.natsCredentials]: defineRpc({
    subject: subjects.registry.plugins.natsCredentials,
    request: PluginIdRequest,
    reply: PluginNatsCredentialsReply,
    access: { action: 'registry.plugin.nats-credentials-renew', kinds: ['plugin'] },
    summary: 'An active plugin renews its own NATS user credentials (short-lived user JWTs).',
  }),
  [subjects.registry.heartbeat]: defineRpc({
    subject: subjects.registry.heartbeat,
    request: PluginHeartbeatRequest,
    reply: PluginHeartbeatReply,
    access: { action: 'registry.heartbeat', kinds: ['plugin'] },
    summary: "A plugin's heartbeat (for itself only).",
  }),
  [subjects.registry.plugins.config.get]: defineRpc({
    subject: subjects.registry.plugins.config.get,
    request: PluginConfigGetRequest,
    reply: PluginConfigView,
    access: user('registry.plugin-config.read'),
    summary: "A plugin's config (a version of it); secret fields are named, never answered.",
  }),
  [subjects.registry.plugins.config.put]: defineRpc({
    subject: subjects.registry.plugins.config.put,
    request: PluginConfigPutRequest,
    reply: PluginConfigView,
    access: user('registry.plugin-config.write'),
    summary: "Sets a new version of a plugin's config, validated against its schema; secrets encrypted.",
  }),
  [subjects.registry.plugins.config.history]: defineRpc({
    subject: subjects.registry.plugins.config.history,
    request: PluginIdRequest,
    reply: PluginConfigHistoryReply,
    access: user('registry.plugin-config.read'),
    summary: "Who changed a plugin's config, when and why, newest first.",
  }),
  [subjects.registry.plugins.config.self]: defineRpc({
    subject: subjects.registry.plugins.config.self,
    request: PluginIdRequest,
    reply: PluginConfigSelfReply,
    access: { action: 'registry.plugin-config.read', kinds: ['plugin'] },
    summary: 'The calling plugin reads its own config, secrets included.',
  }),
} as const;
