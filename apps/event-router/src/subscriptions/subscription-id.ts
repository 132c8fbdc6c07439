import { createHash } from 'node:crypto';

/**
 * The id of a plugin's subscription to a type, also its durable consumer name and dead-letter subject token:
 * `sub_<pluginId>_<type with dots as underscores>_<8 hex of a digest of both>` (the digest keeps `a.b_c` and
 * `a_b.c` apart), at most 200 characters.
 */
export function subscriptionId(pluginId: string, eventType: string): string {
  const digest = createHash('sha256').update(`${pluginId}\u0000${eventType}`).digest('hex').slice(0, 8);

  return `sub_${pluginId}_${eventType.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 100)}_${digest}`;
}

/** A manifest entry's type without its version pin (`UserCreated@1.0` → `UserCreated`). */
export function baseEventType(entry: string): string {
  const at = entry.indexOf('@');

  return at < 0 ? entry : entry.slice(0, at);
}
