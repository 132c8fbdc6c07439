import { createHash } from 'node:crypto';

import type {
  ConfigCatalog,
  ConfigEntryView,
  ConfigKeySpec,
  ConfigValue,
  ConfigView,
  PlatformConfigEntry,
} from '@vivified/contracts';
import { canonicalJson, CONFIG_MASK, configValueProblem } from '@vivified/contracts';

import type { ConfigState, SetValue, StoredValue } from './config.repository';

/** Injection token of the catalog the config service serves (the platform's; tests give their own). */
export const CONFIG_CATALOG = 'vivified.policy.config-catalog';

/** The AAD of a sealed value names its key, so a sealed value cannot be moved to another key. */
export const configAad = (key: string): string => `policy.config:${key}`;

/** A set plain value that still fits its key (a catalog change may have narrowed it); otherwise undefined. */
function fitting(spec: ConfigKeySpec, set: SetValue | undefined): SetValue | undefined {
  if (set === undefined) {
    return undefined;
  }
  if (spec.sensitive) {
    return set.sealed === null ? undefined : set;
  }

  return set.sealed === null && configValueProblem(spec, set.value) === undefined ? set : undefined;
}

const sortedKeys = (catalog: ConfigCatalog): string[] => Object.keys(catalog).sort();

function entryOf(spec: ConfigKeySpec, set: SetValue | undefined): ConfigEntryView {
  const own = fitting(spec, set);
  const defaults = spec.default === undefined ? {} : { default: spec.default };
  const origin = own
    ? { source: 'set' as const, updatedAt: own.updatedAt.toISOString(), updatedBy: own.updatedBy }
    : { source: 'default' as const };
  if (spec.sensitive) {
    return { ...(own ? { value: CONFIG_MASK } : {}), ...origin, sensitive: true, set: own !== undefined };
  }
  const value = own ? (own.value as ConfigValue) : spec.default;

  return { ...(value === undefined ? {} : { value }), ...defaults, ...origin, sensitive: false };
}

/** The strong entity tag of a view: its version and a digest of what it shows. */
export function configEtag(version: number, values: Record<string, ConfigEntryView>): string {
  const digest = createHash('sha256').update(canonicalJson({ version, values })).digest('hex');

  return `"cfg-${version}-${digest.slice(0, 20)}"`;
}

/** `GET /v1/config`: every catalog key; a sensitive key only as `"***"` and `set`. */
export function configView(catalog: ConfigCatalog, state: ConfigState): ConfigView {
  const values: Record<string, ConfigEntryView> = {};
  for (const key of sortedKeys(catalog)) {
    values[key] = entryOf(catalog[key], state.values.get(key));
  }

  return { version: state.version, etag: configEtag(state.version, values), values };
}

/** What is published to `vivified_config`: the effective values of the non-sensitive keys. */
export function publishedEntry(catalog: ConfigCatalog, state: ConfigState): PlatformConfigEntry {
  const values: Record<string, ConfigValue> = {};
  for (const key of sortedKeys(catalog)) {
    const spec = catalog[key];
    if (spec.sensitive) {
      continue;
    }
    const own = fitting(spec, state.values.get(key));
    const value = own ? (own.value as ConfigValue) : spec.default;
    if (value !== undefined) {
      values[key] = value;
    }
  }

  return {
    version: state.version,
    ...(state.updatedAt ? { updatedAt: state.updatedAt.toISOString() } : {}),
    values,
  };
}

/** A history value as users see it: plain, `"***"` when sealed, absent for the default. */
export function shownValue(value: StoredValue | undefined): ConfigValue | undefined {
  if (value === undefined) {
    return undefined;
  }

  return value.sealed === null ? (value.value as ConfigValue) : CONFIG_MASK;
}
