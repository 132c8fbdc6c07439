import type { ESLint, Rule } from 'eslint';

/** Types of index.mjs for the specs (the rules are plain ESM so eslint.config.mjs loads them as is). */
declare const plugin: ESLint.Plugin & {
  rules: {
    'handler-declares-access': Rule.RuleModule;
    'no-subject-literals': Rule.RuleModule;
  };
};

export default plugin;
