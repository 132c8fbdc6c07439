import type { FieldError } from '@vivified/contracts';
import { PluginManifest, validatePayload } from '@vivified/contracts';

import { asObject, ownValue } from './raw-view';
import type { SecurityRuleOptions } from './security-rules';
import { securityViolations } from './security-rules';
import type { ManifestViolation } from './violations';

/** Options of {@link validateManifest}. */
export type ValidateManifestOptions = SecurityRuleOptions;

/** The verdict of {@link validateManifest}. */
export interface ManifestValidation {
  /** True when there is no violation at all. */
  readonly ok: boolean;
  /** The validated manifest, when `ok`. */
  readonly manifest?: PluginManifest;
  /** Every violation: schema violations first, then the security rules. Empty when `ok`. */
  readonly violations: ManifestViolation[];
}

/** Keys that would reach an object's prototype; class-transformer drops them silently, so they are refused. */
const FORBIDDEN_KEYS = new Set(['__proto__']);
const MAX_SCAN_DEPTH = 64;

function forbiddenKeys(value: unknown, path: string, depth: number, out: ManifestViolation[]): void {
  if (depth > MAX_SCAN_DEPTH || typeof value !== 'object' || value === null) {
    return;
  }
  for (const [key, child] of Object.entries(value)) {
    const childPath = path === '' ? key : `${path}.${key}`;
    if (FORBIDDEN_KEYS.has(key)) {
      out.push({ path: childPath, code: 'schema_unknown_field', message: `${key} is a forbidden key` });
      continue;
    }
    forbiddenKeys(child, childPath, depth + 1, out);
  }
}

function valueAt(root: unknown, path: string): unknown {
  let value = root;
  for (const key of path.split('.')) {
    value = Array.isArray(value) ? (value as unknown[])[Number(key)] : ownValue(asObject(value), key);
  }

  return value;
}

const UNKNOWN_PROPERTY = /^property .+ should not exist$/;

/** class-validator's words for a container of the wrong type (IsArray, IsObject). */
const WRONG_CONTAINER = / must be an (?:array|object)$/;

function schemaViolations(errors: FieldError[], input: unknown): ManifestViolation[] {
  // under a container of the wrong type (an object for a list), class-transformer still builds nested
  // instances, whose errors only repeat that the container is wrong
  const wrongContainers = errors
    .filter(({ messages }) => messages.some((message) => WRONG_CONTAINER.test(message)))
    .map(({ path }) => `${path}.`);
  const relevant = errors.filter(({ path }) => !wrongContainers.some((prefix) => path.startsWith(prefix)));

  return relevant.map(({ path, messages }) => {
    if (messages.length > 0 && messages.every((message) => UNKNOWN_PROPERTY.test(message))) {
      return { path, code: 'schema_unknown_field', message: `${path} is not a manifest field` };
    }
    if (path !== '' && valueAt(input, path) === undefined) {
      return { path, code: 'schema_missing', message: `${path} is required` };
    }

    return { path, code: 'schema_invalid', message: [...new Set(messages)].join('; ') };
  });
}

/**
 * Validates a plugin manifest as registration receives it (parsed JSON): the schema of `PluginManifest`
 * (unknown fields refused, sizes bounded), then the platform's security rules — blocked and unknown traits,
 * trait requirements and conflicts, classifications and their traits, PHI controls and retention, external
 * services and their domains, webhook and health check, operations and events, resources, dependencies.
 * Every violation is listed in one answer; nothing stops at the first.
 */
export function validateManifest(input: unknown, options: ValidateManifestOptions = {}): ManifestValidation {
  const violations: ManifestViolation[] = [];
  forbiddenKeys(input, '', 0, violations);
  const schema = validatePayload(PluginManifest, input);
  if (!schema.ok) {
    violations.push(...schemaViolations(schema.errors, input));
  }
  violations.push(...securityViolations(input, options));

  return schema.ok && violations.length === 0
    ? { ok: true, manifest: schema.value, violations }
    : { ok: false, violations };
}
