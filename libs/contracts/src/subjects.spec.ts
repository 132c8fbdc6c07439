import { describe, expect, it } from 'vitest';

import { rpcContracts } from './rpc-map';
import { dynamicSubjects, infoSubjects, serviceNames, SubjectTokenError, subjects } from './subjects';

function leaves(value: unknown): string[] {
  if (typeof value === 'string') {
    return [value];
  }

  return Object.values(value as Record<string, unknown>).flatMap(leaves);
}

const CORE = /^vivified\.v1\.[a-z][a-z-]*\.[a-z][a-z-]*\.[a-z][a-z-]*$/;

describe('subjects', () => {
  const all = leaves(subjects);

  it('are unique', () => {
    expect(new Set(all).size).toBe(all.length);
  });

  it('follow the grammar vivified.v1.<service>.<entity>.<action> for core request/reply', () => {
    const core = Object.values(infoSubjects);
    expect(core).toHaveLength(serviceNames.length);
    for (const subject of core) {
      expect(subject).toMatch(CORE);
    }
  });

  it('use only tokens NATS accepts, with wildcards only at the end', () => {
    for (const subject of all) {
      const tokens = subject.split('.');
      tokens.forEach((token, index) => {
        expect(token.length).toBeGreaterThan(0);
        if (token === '>') {
          expect(index).toBe(tokens.length - 1);
        } else {
          // `$SYS` is the NATS server's own API, the one prefix we do not choose
          expect(token).toMatch(index === 0 ? /^\$?[A-Za-z0-9_-]+$/ : /^[A-Za-z0-9_-]+$/);
        }
      });
    }
  });

  it('address the NATS server API ($SYS) only from the natsSystem group', () => {
    const system = new Set<string>(Object.values(subjects.natsSystem));

    expect(all.filter((subject) => subject.startsWith('$'))).toEqual([...system]);
  });

  it('give every rpc contract the subject it is keyed by', () => {
    for (const [subject, contract] of Object.entries(rpcContracts)) {
      expect(contract.subject).toBe(subject);
    }
  });

  it('build dynamic subjects from checked tokens', () => {
    expect(dynamicSubjects.rpcCall('crm', 'get_user')).toBe('vivified.v1.rpc.crm.get_user');
    expect(dynamicSubjects.pluginRpc('crm', 'get_user')).toBe('vivified.v1.plugin.crm.rpc.get_user');
    expect(dynamicSubjects.publishEvent('acme.invoice.paid')).toBe(
      'vivified.v1.events.publish.acme.invoice.paid',
    );
    expect(dynamicSubjects.storedEvent('UserCreated')).toBe('vivified.events.UserCreated');
  });

  it.each(['crm.>', '*', 'a b', '', 'crm.x', '>'])(
    'refuse a plugin id that would widen the subject: %j',
    (id) => {
      expect(() => dynamicSubjects.pluginDeliver(id)).toThrow(SubjectTokenError);
    },
  );

  it.each(['a..b', 'a.>', 'x.*', ' ', '.a'])(
    'refuse an event type that would widen the subject: %j',
    (type) => {
      expect(() => dynamicSubjects.publishEvent(type)).toThrow(SubjectTokenError);
    },
  );
});
