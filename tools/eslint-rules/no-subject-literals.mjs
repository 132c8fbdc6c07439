/**
 * `vivified/no-subject-literals` (STYLE rule 3): every subject lives in `libs/contracts/src/subjects.ts`.
 *
 * - A string or template literal that starts with a platform subject prefix is reported wherever the rule
 *   is on (eslint.config.mjs turns it on everywhere except `libs/contracts/**`).
 * - With `checkCalls` (the default; off in tests), a string or template literal as the first argument of
 *   `.publish()`, `.request()` or `.subscribe()` is reported too, unless it is a URL or a path (it contains
 *   `/`, `:` or whitespace, which a NATS subject never does).
 */

/** Prefixes of every subject the platform owns, and of plugin inboxes. */
export const SUBJECT_PREFIXES = [
  'vivified.v1.',
  'vivified.events.',
  'vivified.audit.',
  'vivified.dlq.',
  '_INBOX_',
];

/** Methods whose first argument is a subject. */
export const SUBJECT_METHODS = ['publish', 'request', 'subscribe'];

const NOT_A_SUBJECT = /[/:\s]/;

/**
 * @param {import('estree').Literal | import('estree').TemplateLiteral} node
 * @returns {string | undefined} the subject prefix the literal starts with, if any
 */
function subjectPrefixOf(node) {
  const text = node.type === 'Literal' ? node.value : node.quasis[0]?.value.cooked;
  if (typeof text !== 'string') {
    return undefined;
  }

  return SUBJECT_PREFIXES.find((prefix) => text.startsWith(prefix));
}

/**
 * @param {import('estree').Node | undefined} node
 * @returns {string | undefined} the static text of a string or template literal, or undefined for other nodes
 */
function staticText(node) {
  if (node?.type === 'Literal' && typeof node.value === 'string') {
    return node.value;
  }
  if (node?.type === 'TemplateLiteral') {
    return node.quasis.map((quasi) => quasi.value.cooked ?? quasi.value.raw).join('');
  }

  return undefined;
}

/**
 * @param {import('estree').Expression | import('estree').Super} callee
 * @returns {string | undefined}
 */
function calledMethod(callee) {
  if (callee.type !== 'MemberExpression') {
    return undefined;
  }
  if (!callee.computed && callee.property.type === 'Identifier') {
    return callee.property.name;
  }

  return staticText(callee.property);
}

/** @type {import('eslint').Rule.RuleModule} */
const rule = {
  meta: {
    type: 'problem',
    docs: {
      description: 'Subjects come from libs/contracts: no subject literals, no literal subject arguments',
    },
    schema: [
      {
        type: 'object',
        properties: {
          checkCalls: {
            type: 'boolean',
            description: 'Report string literals as the first argument of publish, request and subscribe.',
          },
        },
        additionalProperties: false,
      },
    ],
    defaultOptions: [{ checkCalls: true }],
    messages: {
      subjectLiteral:
        'Subject literal "{{prefix}}…" outside libs/contracts: use `subjects` or `dynamicSubjects` from @vivified/contracts.',
      literalSubjectArgument:
        'Literal subject passed to .{{method}}(): take the subject from `subjects` or `dynamicSubjects` in @vivified/contracts.',
    },
  },

  create(context) {
    const [{ checkCalls }] = /** @type {[{ checkCalls: boolean }]} */ (context.options);

    /**
     * @param {import('estree').Literal | import('estree').TemplateLiteral} node
     */
    function checkPrefix(node) {
      const prefix = subjectPrefixOf(node);
      if (prefix !== undefined) {
        context.report({ node, messageId: 'subjectLiteral', data: { prefix } });
      }
    }

    return {
      Literal: checkPrefix,
      TemplateLiteral: checkPrefix,
      CallExpression(node) {
        if (!checkCalls) {
          return;
        }
        const method = calledMethod(node.callee);
        if (method === undefined || !SUBJECT_METHODS.includes(method)) {
          return;
        }
        const [first] = node.arguments;
        if (first?.type !== 'Literal' && first?.type !== 'TemplateLiteral') {
          return;
        }
        const text = staticText(first);
        // A literal with a subject prefix is already reported by checkPrefix.
        if (text === undefined || NOT_A_SUBJECT.test(text) || subjectPrefixOf(first) !== undefined) {
          return;
        }
        context.report({ node: first, messageId: 'literalSubjectArgument', data: { method } });
      },
    };
  },
};

export default rule;
