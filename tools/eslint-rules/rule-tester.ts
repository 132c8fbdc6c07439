import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, it } from 'vitest';

// RuleTester runs each case as a test of the framework it is given (`only` falls back to `it.only`).
RuleTester.describe = describe;
RuleTester.it = it;

/** A RuleTester on vitest that parses TypeScript (decorators, types) as eslint.config.mjs does. */
export const ruleTester = new RuleTester({
  languageOptions: { parser: tseslint.parser, ecmaVersion: 2022, sourceType: 'module' },
});
