import type { Permissions } from '@nats-io/jwt';
import { dynamicSubjects, subjectToken, subjects } from '@vivified/contracts';

/** How long a plugin may answer a request it received (`allow_responses`), in nanoseconds as NATS JWTs count. */
export const RESPONSE_TTL_NANOS = 120 * 1_000_000_000;

/** The core APIs a plugin calls for itself (ARCHITECTURE §3): token renewal, heartbeats, reading its own config. */
export const PLUGIN_SELF_SERVICE_SUBJECTS: readonly string[] = [
  subjects.identity.tokens.plugin,
  subjects.registry.heartbeat,
  subjects.registry.plugins.config.self,
  // renewal while active keeps a short-lived NATS user alive; the sidecar refuses it to a disabled plugin
  subjects.registry.plugins.natsCredentials,
];

/** What a plugin may publish (ARCHITECTURE §3), the same for every plugin. */
export const PLUGIN_PUBLISH_SUBJECTS: readonly string[] = [
  subjects.events.publishAll,
  subjects.events.subscribe,
  subjects.events.unsubscribe,
  subjects.rpc.all,
  subjects.proxy.request,
  ...PLUGIN_SELF_SERVICE_SUBJECTS,
];

/**
 * The NATS permissions of one plugin's user (ARCHITECTURE §3): publish the lanes and its self-service APIs,
 * subscribe its own subjects and inbox, answer the requests it receives. Nothing else: no `$JS.API`, no stream
 * subject, no other plugin's subjects.
 */
export function pluginNatsPermissions(pluginId: string): Required<Permissions> {
  const id = subjectToken('plugin id', pluginId);

  return {
    pub: { allow: [...PLUGIN_PUBLISH_SUBJECTS], deny: [] },
    sub: {
      allow: [dynamicSubjects.pluginAll(id), `${dynamicSubjects.pluginInboxPrefix(id)}.>`],
      deny: [],
    },
    resp: { max: 1, ttl: RESPONSE_TTL_NANOS },
  };
}
