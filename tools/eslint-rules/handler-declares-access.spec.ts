import plugin from './index.mjs';
import { ruleTester } from './rule-tester';

const rule = plugin.rules['handler-declares-access'];

ruleTester.run('handler-declares-access', rule, {
  valid: [
    {
      name: '@Handle with a subject from contracts',
      code: `
        import { subjects } from '@vivified/contracts';
        import { Handle } from '@vivified/nats-transport';
        class InfoHandlers {
          @Handle(subjects.identity.info)
          info() {}
        }`,
    },
    {
      name: '@Handle and subjects under other local names',
      code: `
        import { subjects as s } from '@vivified/contracts';
        import { Handle as Serve } from '@vivified/nats-transport';
        class InfoHandlers {
          @Serve(s.eventRouter.info)
          info() {}
        }`,
    },
    {
      name: '@Consume with a consumer from contracts',
      code: `
        import { AuditRecord, consumers } from '@vivified/contracts';
        import { Consume } from '@vivified/nats-transport';
        class AuditIngest {
          @Consume(consumers.auditIngest, AuditRecord)
          ingest(record: AuditRecord) {}
        }`,
    },
    {
      name: 'MessagePattern called as a function, as the transport does',
      code: `
        import { MessagePattern } from '@nestjs/microservices';
        export function Handle(subject: string): MethodDecorator {
          return MessagePattern(subject);
        }`,
    },
    {
      name: 'other decorators on methods',
      code: `
        class UsersController {
          @Get(':id')
          @Authorized(Permission.UserRead)
          get() {}
        }`,
    },
    {
      name: 'a contract object when allowContractObjects is on (test fixtures)',
      code: `
        import { Handle } from '@vivified/nats-transport';
        class EchoHandlers {
          @Handle(echoContract)
          echo() {}
          @Handle(contracts.secured)
          secured() {}
        }`,
      options: [{ allowContractObjects: true }],
    },
  ],
  invalid: [
    {
      name: 'raw @MessagePattern',
      code: `
        import { MessagePattern } from '@nestjs/microservices';
        class MathController {
          @MessagePattern('sum')
          sum() {}
        }`,
      errors: [{ messageId: 'rawPattern', data: { name: 'MessagePattern' } }],
    },
    {
      name: 'raw @EventPattern, aliased, and through a namespace import',
      code: `
        import { EventPattern as On } from '@nestjs/microservices';
        import * as ms from '@nestjs/microservices';
        class Listener {
          @On('user.created')
          created() {}
          @ms.MessagePattern({ cmd: 'x' })
          x() {}
        }`,
      errors: [
        { messageId: 'rawPattern', data: { name: 'On' } },
        { messageId: 'rawPattern', data: { name: 'ms.MessagePattern' } },
      ],
    },
    {
      name: 'raw @MessagePattern without its import still reads as the Nest one',
      code: `
        class Handlers {
          @MessagePattern(subjects.identity.info)
          info() {}
        }`,
      errors: [{ messageId: 'rawPattern' }],
    },
    {
      name: '@Handle with a string literal',
      code: `
        import { Handle } from '@vivified/nats-transport';
        class Handlers {
          @Handle('vivified.v1.identity.info.get')
          info() {}
        }`,
      errors: [{ messageId: 'handleNeedsSubject', line: 4 }],
    },
    {
      name: '@Handle with a template literal, a variable, a call, or nothing',
      code: `
        import { Handle } from '@vivified/nats-transport';
        class Handlers {
          @Handle(\`vivified.v1.\${name}.info.get\`)
          a() {}
          @Handle(subject)
          b() {}
          @Handle(dynamicSubjects.publishEvent('x'))
          c() {}
          @Handle()
          d() {}
          @Handle
          e() {}
        }`,
      errors: [
        { messageId: 'handleNeedsSubject', line: 4 },
        { messageId: 'handleNeedsSubject', line: 6 },
        { messageId: 'handleNeedsSubject', line: 8 },
        { messageId: 'handleNeedsSubject', line: 10 },
        { messageId: 'handleNeedsSubject', line: 12 },
      ],
    },
    {
      name: 'literals and a missing subject even when allowContractObjects is on',
      code: `
        import { Handle } from '@vivified/nats-transport';
        class Handlers {
          @Handle('test.echo')
          a() {}
          @Handle(\`test.\${prefix}.echo\`)
          b() {}
          @Handle()
          c() {}
        }`,
      options: [{ allowContractObjects: true }],
      errors: [
        { messageId: 'handleNeedsSubject', line: 4 },
        { messageId: 'handleNeedsSubject', line: 6 },
        { messageId: 'handleNeedsSubject', line: 8 },
      ],
    },
  ],
});
