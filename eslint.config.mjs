// ESLint flat config of the monorepo (STYLE rules 3, 14–17). `npm run lint` runs it with --max-warnings 0:
// every rule here is an error, never a warning.
// @nx/eslint-plugin/internal gives the boundaries rule without the main entry's loader, which would try to
// compile tools/eslint-rules as TypeScript (and warn without swc-node). nx is pinned, so the path is stable.
import { enforceModuleBoundaries } from '@nx/eslint-plugin/internal';
import vitest from '@vitest/eslint-plugin';
import prettier from 'eslint-config-prettier/flat';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import unicorn from 'eslint-plugin-unicorn';
import { defineConfig, globalIgnores } from 'eslint/config';
import { createProjectGraphAsync } from 'nx/src/devkit-exports.js';
import tseslint from 'typescript-eslint';

import vivified from './tools/eslint-rules/index.mjs';

// @nx/enforce-module-boundaries reads the project graph nx cached in .nx/, and skips itself with a message on
// stdout (exit code 0) when there is none, e.g. in a fresh clone running `eslint .` directly. Computing the
// graph here (about a second, no daemon) keeps the rule on and its tags current; a broken project fails lint.
await createProjectGraphAsync({ exitOnError: false });

const TS_FILES = ['**/*.ts', '**/*.mts', '**/*.cts'];
const JS_FILES = ['**/*.js', '**/*.mjs', '**/*.cjs'];

/** Test code: unit and integration specs, test folders, the e2e app and the harness itself. */
const TEST_FILES = [
  '**/*.spec.ts',
  '**/*.int-spec.ts',
  '**/*.e2e-spec.ts',
  '{apps,libs}/*/test/**',
  'apps/e2e/**',
  'libs/testing/**',
];

/** Code that never ships: tests, tools and root config files. */
const NON_PRODUCTION_FILES = [...TEST_FILES, 'tools/**', '*.{ts,mts,cts,js,mjs,cjs}'];

const SERVICES = ['identity', 'policy', 'registry', 'audit', 'gateway', 'event-router'];

/** STYLE "Tags and constraints". No `'*'` anywhere: a constraint that allows everything enforces nothing. */
const depConstraints = [
  // Scope axis.
  ...SERVICES.map((service) => ({
    sourceTag: `scope:${service}`,
    onlyDependOnLibsWithTags: [`scope:${service}`, 'scope:backend', 'scope:shared'],
  })),
  { sourceTag: 'scope:console', onlyDependOnLibsWithTags: ['scope:console', 'scope:shared'] },
  { sourceTag: 'scope:cli', onlyDependOnLibsWithTags: ['scope:cli', 'scope:shared'] },
  { sourceTag: 'scope:backend', onlyDependOnLibsWithTags: ['scope:backend', 'scope:shared'] },
  { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
  // Type axis. type:testing is allowed to every type but contracts here; the no-restricted-imports block
  // below keeps it out of production files.
  {
    sourceTag: 'type:app',
    onlyDependOnLibsWithTags: [
      'type:feature',
      'type:infra',
      'type:client',
      'type:ui',
      'type:contracts',
      'type:testing',
    ],
  },
  {
    sourceTag: 'type:feature',
    onlyDependOnLibsWithTags: ['type:feature', 'type:infra', 'type:client', 'type:contracts', 'type:testing'],
  },
  { sourceTag: 'type:infra', onlyDependOnLibsWithTags: ['type:infra', 'type:contracts', 'type:testing'] },
  { sourceTag: 'type:client', onlyDependOnLibsWithTags: ['type:contracts', 'type:testing'] },
  {
    sourceTag: 'type:ui',
    onlyDependOnLibsWithTags: ['type:ui', 'type:client', 'type:contracts', 'type:testing'],
  },
  {
    sourceTag: 'type:contracts',
    onlyDependOnLibsWithTags: [],
    bannedExternalImports: ['@nestjs/*', '@nats-io/*', 'nats', 'pg', 'react'],
  },
  {
    sourceTag: 'type:testing',
    onlyDependOnLibsWithTags: [
      'type:feature',
      'type:infra',
      'type:client',
      'type:ui',
      'type:contracts',
      'type:testing',
    ],
  },
];

const boundaries = {
  enforceBuildableLibDependency: false,
  allowCircularSelfDependency: false,
  allow: [],
  depConstraints,
};

/** Relative imports may go up one folder at most; anything further is a package import. */
const climbingImport = {
  regex: '^(\\.\\./){2,}',
  message: 'No relative import across folders: import the project by its package name (@vivified/…).',
};

/** Each lib has one public entry (STYLE rule 15). */
const deepImport = {
  // the telemetry entry is the one exception: main.ts loads it before anything else (ADR-0004)
  regex: '^@vivified/(?!service-kit/telemetry$)[^/]+/',
  message: 'Import a lib from its public entry (@vivified/<lib>) only.',
};

export default defineConfig(
  globalIgnores([
    '**/node_modules/',
    '**/dist/',
    '.nx/',
    '.vivified/',
    'coverage/',
    'tmp/',
    // Hand-written declarations of the JS rule modules; the specs type-check their use.
    'tools/eslint-rules/*.d.mts',
  ]),

  {
    name: 'vivified/linter-options',
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },

  {
    name: 'vivified/typescript',
    files: [...TS_FILES, ...JS_FILES],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: {
          // tsconfig.json covers *.mts at the root only; these get the same options through it.
          allowDefaultProject: ['tools/*/*.mts'],
          defaultProject: 'tsconfig.json',
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: {
      '@nx': { rules: { 'enforce-module-boundaries': enforceModuleBoundaries } },
      'import-x': importX,
      unicorn,
      vivified,
    },
    settings: {
      'import-x/extensions': [...TS_FILES, ...JS_FILES].map((glob) => glob.slice('**/*'.length)),
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.mts', '.cts'] },
      'import-x/resolver-next': [
        createNodeResolver({
          extensions: ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.json', '.node'],
          // Workspace libs resolve to their sources, as tsconfig's customConditions does.
          conditionNames: ['@vivified/source', 'types', 'import', 'require', 'node', 'default'],
        }),
      ],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      // Skips files that carry decorators while emitDecoratorMetadata is on, so Nest DI keeps its imports.
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'separate-type-imports' },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      'padding-line-between-statements': ['error', { blankLine: 'always', prev: '*', next: 'return' }],
      'no-restricted-imports': ['error', { patterns: [climbingImport, deepImport] }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'unicorn/filename-case': ['error', { case: 'kebabCase' }],
      '@nx/enforce-module-boundaries': ['error', boundaries],
      'vivified/no-subject-literals': 'error',
      'vivified/handler-declares-access': 'error',
    },
  },

  {
    name: 'vivified/javascript',
    files: JS_FILES,
    extends: [tseslint.configs.disableTypeChecked],
  },

  {
    // The harness stays out of production code (STYLE "Tags and constraints", type:testing).
    name: 'vivified/testing-only-in-tests',
    files: TS_FILES,
    ignores: NON_PRODUCTION_FILES,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: '@vivified/testing', message: 'The test harness is for specs and test/ folders only.' },
          ],
          patterns: [climbingImport, deepImport],
        },
      ],
    },
  },

  {
    name: 'vivified/tests',
    files: TEST_FILES,
    plugins: { vitest },
    rules: {
      'vitest/no-focused-tests': 'error',
      'vitest/no-disabled-tests': 'error',
      // Tests may pass a literal to publish/request/subscribe of a throwaway subject, never a platform one,
      // and serve fixture contracts built with defineRpc; literal subjects in @Handle stay errors.
      'vivified/no-subject-literals': ['error', { checkCalls: false }],
      'vivified/handler-declares-access': ['error', { allowContractObjects: true }],
    },
  },

  {
    // Integration tests use their own project through its public entry, as its consumers do.
    name: 'vivified/integration-tests',
    files: ['{apps,libs}/*/test/**'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', { ...boundaries, allowCircularSelfDependency: true }],
    },
  },

  {
    // The one place subject strings live (STYLE rule 3), and the rule that guards them.
    name: 'vivified/contracts',
    files: ['libs/contracts/**', 'tools/eslint-rules/**'],
    rules: { 'vivified/no-subject-literals': 'off' },
  },

  // Last: turns off formatting rules that prettier owns; `curly` is one of them, and with "all" it never
  // conflicts with prettier, so it comes back after.
  prettier,
  {
    name: 'vivified/after-prettier',
    files: [...TS_FILES, ...JS_FILES],
    rules: { curly: ['error', 'all'] },
  },
);
