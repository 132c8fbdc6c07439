import plugin from './index.mjs';
import { ruleTester } from './rule-tester';

const rule = plugin.rules['no-subject-literals'];

ruleTester.run('no-subject-literals', rule, {
  valid: [
    { name: 'subject from contracts', code: 'nc.publish(subjects.registry.heartbeat, payload);' },
    { name: 'dynamic subject from contracts', code: 'nc.publish(dynamicSubjects.storedEvent(type), data);' },
    { name: 'subject held in a variable', code: 'client.request(subject, body);' },
    { name: 'a string that is not a subject', code: "const name = 'vivified';" },
    {
      name: 'a string mentioning a subject later on',
      code: "const text = 'see vivified.v1.identity.info.get';",
    },
    { name: 'the standard NATS inbox', code: "const inbox = '_INBOX.abc';" },
    { name: 'a regular expression', code: 'const re = /^vivified\\.v1\\./;' },
    { name: 'a URL passed to request', code: "http.request('http://127.0.0.1:4222/varz');" },
    { name: 'a path passed to request', code: 'agent.request(`/v1/users/${id}`);' },
    { name: 'subscribe with a callback', code: 'observable.subscribe(() => done());' },
    { name: 'a literal that is not the first argument', code: "nc.publish(subject, 'hello');" },
    { name: 'other methods', code: "emitter.emit('ready'); queue.push('x');" },
    {
      name: 'call arguments are allowed when checkCalls is off (tests)',
      code: "nc.publish('test.subject', data); nc.subscribe(`test.${name}`);",
      options: [{ checkCalls: false }],
    },
  ],
  invalid: [
    {
      name: 'a core subject literal',
      code: "const subject = 'vivified.v1.identity.info.get';",
      errors: [{ messageId: 'subjectLiteral', data: { prefix: 'vivified.v1.' } }],
    },
    {
      name: 'a stored event, audit and dead letter subject',
      code: "const a = 'vivified.events.UserCreated'; const b = 'vivified.audit.auth'; const c = 'vivified.dlq.x';",
      errors: [
        { messageId: 'subjectLiteral', data: { prefix: 'vivified.events.' } },
        { messageId: 'subjectLiteral', data: { prefix: 'vivified.audit.' } },
        { messageId: 'subjectLiteral', data: { prefix: 'vivified.dlq.' } },
      ],
    },
    {
      name: 'a template literal building a subject',
      code: 'const subject = `vivified.v1.plugin.${id}.deliver`;',
      errors: [{ messageId: 'subjectLiteral' }],
    },
    {
      name: 'a plugin inbox prefix',
      code: 'const inbox = `_INBOX_${pluginId}`;',
      errors: [{ messageId: 'subjectLiteral', data: { prefix: '_INBOX_' } }],
    },
    {
      name: 'a subject literal in a type',
      code: "type Info = 'vivified.v1.audit.info.get';",
      errors: [{ messageId: 'subjectLiteral' }],
    },
    {
      name: 'a subject literal passed to publish is reported once',
      code: "nc.publish('vivified.v1.registry.heartbeat', data);",
      errors: [{ messageId: 'subjectLiteral' }],
    },
    {
      name: 'a subject prefix is reported even when checkCalls is off',
      code: "describe('vivified.v1.identity.info.get', () => {});",
      options: [{ checkCalls: false }],
      errors: [{ messageId: 'subjectLiteral' }],
    },
    {
      name: 'a literal first argument of publish, request and subscribe',
      code: "nc.publish('sum', data); await nc.request('math.add', body); nc.subscribe('orders.*');",
      errors: [
        { messageId: 'literalSubjectArgument', data: { method: 'publish' } },
        { messageId: 'literalSubjectArgument', data: { method: 'request' } },
        { messageId: 'literalSubjectArgument', data: { method: 'subscribe' } },
      ],
    },
    {
      name: 'a template literal first argument, optional call and computed member',
      code: "js.publish(`orders.${id}`); nc?.request('x'); nc['subscribe']('y');",
      errors: [
        { messageId: 'literalSubjectArgument', data: { method: 'publish' } },
        { messageId: 'literalSubjectArgument', data: { method: 'request' } },
        { messageId: 'literalSubjectArgument', data: { method: 'subscribe' } },
      ],
    },
  ],
});
