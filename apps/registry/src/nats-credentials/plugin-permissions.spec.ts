import { dynamicSubjects, subjects } from '@vivified/contracts';
import { describe, expect, it } from 'vitest';

import { PLUGIN_PUBLISH_SUBJECTS, pluginNatsPermissions, RESPONSE_TTL_NANOS } from './plugin-permissions';

describe(pluginNatsPermissions.name, () => {
  it('allows the lanes and the self-service APIs to publish, its own subjects and inbox to subscribe', () => {
    const sut = pluginNatsPermissions('acme-crm');

    expect(sut.pub).toEqual({
      allow: [
        subjects.events.publishAll,
        subjects.events.subscribe,
        subjects.events.unsubscribe,
        subjects.rpc.all,
        subjects.proxy.request,
        subjects.identity.tokens.plugin,
        subjects.registry.heartbeat,
        subjects.registry.plugins.config.self,
        subjects.registry.plugins.natsCredentials,
      ],
      deny: [],
    });
    expect(sut.sub).toEqual({
      allow: [dynamicSubjects.pluginAll('acme-crm'), `${dynamicSubjects.pluginInboxPrefix('acme-crm')}.>`],
      deny: [],
    });
    expect(sut.resp).toEqual({ max: 1, ttl: RESPONSE_TTL_NANOS });
  });

  it('allows no JetStream API, stream subject, audit, core admin API or plugin-facing core subject', () => {
    const allowed = [...PLUGIN_PUBLISH_SUBJECTS, ...(pluginNatsPermissions('acme-crm').sub.allow ?? [])];

    for (const subject of allowed) {
      expect(subject).not.toMatch(/^\$|^vivified\.(events|audit|dlq)\.|^_INBOX\.|^>$|^\*/);
    }
    expect(allowed).not.toContain(subjects.identity.users.list);
    expect(allowed.filter((subject) => /^vivified\.v1\.plugin\./.test(subject))).toEqual([
      dynamicSubjects.pluginAll('acme-crm'),
    ]);
  });

  it.each(['a.b', '*', '>', 'a b', '', 'x>'])('refuses the plugin id %j that would widen a subject', (id) => {
    expect(() => pluginNatsPermissions(id)).toThrow(/invalid plugin id/);
  });
});
