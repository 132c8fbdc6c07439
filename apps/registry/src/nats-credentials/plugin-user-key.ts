import type { KeyPair } from '@nats-io/nkeys';
import { fromSeed, Prefix } from '@nats-io/nkeys';
// the seed codec is not on the package's main entry; the version is pinned (package.json)
import { Codec } from '@nats-io/nkeys/lib/codec';
import { createHmac } from 'node:crypto';

/** HMAC label of a plugin user's key; a new version gives every plugin a new key. */
const USER_KEY_PURPOSE = 'vivified.nats.plugin-user.v1';

/**
 * The NATS user key of a plugin, derived from the account signing seed and the plugin id. One stable key per
 * plugin lets the registry revoke every JWT it ever issued to a plugin (the account JWT's `revocations` are by
 * user key and issue time) without storing the keys it handed out.
 */
export function pluginUserKey(accountSigningSeed: string, pluginId: string): KeyPair {
  const raw = createHmac('sha256', accountSigningSeed).update(`${USER_KEY_PURPOSE}\0${pluginId}`).digest();

  return fromSeed(Codec.encodeSeed(Prefix.User, new Uint8Array(raw)));
}
