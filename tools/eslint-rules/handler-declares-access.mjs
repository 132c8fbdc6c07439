/**
 * `vivified/handler-declares-access` (STYLE rules 2, 17, avoid 7–8): every NATS handler takes its subject,
 * payload schema and access from a contract.
 *
 * - A class method decorated with Nest's raw `@MessagePattern` or `@EventPattern` is reported: handlers use
 *   `@Handle(subject)` or `@Consume(...)` from @vivified/nats-transport, which read the access the contract
 *   declares and validate the payload before the method runs.
 * - `@Handle(...)` must be given a member of `subjects` from @vivified/contracts (`subjects.identity.info`),
 *   not a literal, a variable or any other expression. With `allowContractObjects` (tests, where fixtures
 *   build throwaway contracts with `defineRpc`), any argument but a string or template literal is accepted.
 */

const NEST_MICROSERVICES = '@nestjs/microservices';
const NATS_TRANSPORT = '@vivified/nats-transport';
const CONTRACTS = '@vivified/contracts';
const RAW_PATTERNS = ['MessagePattern', 'EventPattern'];

/**
 * @param {import('estree').ImportSpecifier} specifier
 * @returns {string}
 */
function importedName(specifier) {
  return specifier.imported.type === 'Identifier'
    ? specifier.imported.name
    : String(specifier.imported.value);
}

/** @type {import('eslint').Rule.RuleModule} */
const rule = {
  meta: {
    type: 'problem',
    docs: {
      description: 'NATS handlers use @Handle(subjects.…) / @Consume(…), which take access from the contract',
    },
    schema: [
      {
        type: 'object',
        properties: {
          allowContractObjects: {
            type: 'boolean',
            description: 'Accept a contract object (any non-literal argument) in @Handle().',
          },
        },
        additionalProperties: false,
      },
    ],
    defaultOptions: [{ allowContractObjects: false }],
    messages: {
      rawPattern:
        '@{{name}} bypasses the contract: use @Handle(subjects.…) or @Consume(…) from @vivified/nats-transport, which validate the payload and enforce the access the contract declares.',
      handleNeedsSubject:
        '@{{name}}() takes a subject from `subjects` of @vivified/contracts (e.g. `subjects.identity.info`), not a literal or other expression.',
    },
  },

  create(context) {
    const [{ allowContractObjects }] = /** @type {[{ allowContractObjects: boolean }]} */ (context.options);
    /** Local names bound to Nest's raw pattern decorators. */
    const rawNames = new Set(RAW_PATTERNS);
    /** Local names of `import * as x from '@nestjs/microservices'`. */
    const nestNamespaces = new Set();
    /** Local names bound to our `Handle`. */
    const handleNames = new Set(['Handle']);
    /** Local names bound to `subjects` of the contracts. */
    const subjectsNames = new Set(['subjects']);

    /**
     * @param {any} node a decorator's expression (TS-ESTree)
     * @returns {{ name: string, raw: boolean } | undefined}
     */
    function decoratorOf(node) {
      const callee = node.type === 'CallExpression' ? node.callee : node;
      if (callee.type === 'Identifier') {
        if (rawNames.has(callee.name)) {
          return { name: callee.name, raw: true };
        }

        return handleNames.has(callee.name) ? { name: callee.name, raw: false } : undefined;
      }
      if (
        callee.type === 'MemberExpression' &&
        !callee.computed &&
        callee.object.type === 'Identifier' &&
        nestNamespaces.has(callee.object.name) &&
        RAW_PATTERNS.includes(callee.property.name)
      ) {
        return { name: `${callee.object.name}.${callee.property.name}`, raw: true };
      }

      return undefined;
    }

    /**
     * @param {any} node
     * @returns {boolean} whether node is `subjects.<…>.<…>`
     */
    function isSubjectsMember(node) {
      if (node?.type !== 'MemberExpression') {
        return false;
      }
      let object = node;
      while (object.type === 'MemberExpression') {
        object = object.object;
      }

      return object.type === 'Identifier' && subjectsNames.has(object.name);
    }

    return {
      Program(program) {
        for (const statement of program.body) {
          if (statement.type !== 'ImportDeclaration') {
            continue;
          }
          const source = statement.source.value;
          for (const specifier of statement.specifiers) {
            if (source === NEST_MICROSERVICES && specifier.type === 'ImportNamespaceSpecifier') {
              nestNamespaces.add(specifier.local.name);
            }
            if (specifier.type !== 'ImportSpecifier') {
              continue;
            }
            const name = importedName(specifier);
            if (source === NEST_MICROSERVICES && RAW_PATTERNS.includes(name)) {
              rawNames.add(specifier.local.name);
            } else if (source === NATS_TRANSPORT && name === 'Handle') {
              handleNames.add(specifier.local.name);
            } else if (source === CONTRACTS && name === 'subjects') {
              subjectsNames.add(specifier.local.name);
            }
          }
        }
      },

      /** @param {any} node */
      Decorator(node) {
        if (node.parent.type !== 'MethodDefinition') {
          return;
        }
        const decorator = decoratorOf(node.expression);
        if (decorator === undefined) {
          return;
        }
        if (decorator.raw) {
          context.report({ node, messageId: 'rawPattern', data: { name: decorator.name } });

          return;
        }
        const subject = node.expression.type === 'CallExpression' ? node.expression.arguments[0] : undefined;
        const accepted = allowContractObjects
          ? subject !== undefined && subject.type !== 'Literal' && subject.type !== 'TemplateLiteral'
          : isSubjectsMember(subject);
        if (!accepted) {
          context.report({
            node: subject ?? node,
            messageId: 'handleNeedsSubject',
            data: { name: decorator.name },
          });
        }
      },
    };
  },
};

export default rule;
