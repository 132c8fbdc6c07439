import { IsArray, IsIn, IsISO8601, IsString } from 'class-validator';

/** Lifecycle states of a plugin (issue 5). */
export const pluginStatuses = ['pending_approval', 'active', 'disabled', 'revoked'] as const;

/** One lifecycle state. */
export type PluginStatus = (typeof pluginStatuses)[number];

/**
 * A plugin's entry in the `vivified_plugins` bucket (key = plugin id), written by the registry and read by
 * every sidecar: a plugin that is not `active` is refused everywhere.
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

  /** When the entry was written (ISO 8601). */
  @IsISO8601()
  updatedAt!: string;
}
