/**
 * The `vivified` ESLint plugin: architectural invariants as lint rules (STYLE rule 17). eslint.config.mjs
 * registers it as `vivified`; each rule has a spec beside it.
 */
import handlerDeclaresAccess from './handler-declares-access.mjs';
import noSubjectLiterals from './no-subject-literals.mjs';

/** @type {import('eslint').ESLint.Plugin & { rules: Record<string, import('eslint').Rule.RuleModule> }} */
const plugin = {
  meta: { name: 'vivified' },
  rules: {
    'handler-declares-access': handlerDeclaresAccess,
    'no-subject-literals': noSubjectLiterals,
  },
};

export default plugin;
