import { Type } from 'class-transformer';
import { IsArray, IsIn, IsISO8601, IsOptional, IsString, ValidateNested } from 'class-validator';

import { ManifestDelivery, ManifestEvents, ManifestOperation } from './manifest';

/** Lifecycle states of a plugin (issue 5). */
export const pluginStatuses = ['pending_approval', 'active', 'disabled', 'revoked'] as const;

/** One lifecycle state. */
export type PluginStatus = (typeof pluginStatuses)[number];

/**
 * A plugin's entry in the `vivified_plugins` bucket (key = plugin id), written by the registry and read by
 * every sidecar: a plugin that is not `active` is refused everywhere. Besides status and traits it carries the
 * routing facts of the approved manifest the lanes need (operations, approved domains, delivery, events), so no
 * lane asks the registry on the hot path.
 */
export class PluginStatusEntry {
  /** Plugin id. */
  @IsString()
  id!: string;

  /** Lifecycle state. */
  @IsIn(pluginStatuses)
  status!: PluginStatus;

  /** Approved traits. */
  @IsArray()
  @IsString({ each: true })
  traits!: string[];

  /** Manifest version (semver). */
  @IsString()
  version!: string;

  /** SHA-256 of the approved manifest's canonical JSON, hex. */
  @IsString()
  manifestDigest!: string;

  /** The operations other plugins may call on the operator lane (from the approved manifest). */
  @IsOptional()
  @ValidateNested({ each: true })
  @Type(() => ManifestOperation)
  operations?: ManifestOperation[];

  /** Domains an admin approved for the proxy lane (from the approved manifest). */
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  allowedDomains?: string[];

  /** How canonical events reach the plugin. */
  @IsOptional()
  @ValidateNested()
  @Type(() => ManifestDelivery)
  delivery?: ManifestDelivery;

  /** Event types the plugin may publish and subscribes to. */
  @IsOptional()
  @ValidateNested()
  @Type(() => ManifestEvents)
  events?: ManifestEvents;

  /** When the entry was written (ISO 8601). */
  @IsISO8601()
  updatedAt!: string;
}
