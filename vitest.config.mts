import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const shared = {
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: { conditions: ['@vivified/source'] },
  ssr: { resolve: { conditions: ['@vivified/source'] } },
};

export default defineConfig({
  test: {
    projects: [
      {
        ...shared,
        test: {
          name: 'unit',
          include: ['{apps,libs,tools}/**/src/**/*.spec.ts', 'tools/**/*.spec.ts'],
          exclude: ['**/node_modules/**', '**/dist/**'],
          environment: 'node',
          sequence: { groupOrder: 0 },
        },
      },
      {
        ...shared,
        test: {
          name: 'integration',
          include: ['{apps,libs}/**/test/**/*.int-spec.ts', 'tools/**/*.int-spec.ts'],
          exclude: ['**/node_modules/**', '**/dist/**'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: true,
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
    ],
    reporters: ['default', './tools/vitest/summary-reporter.mts'],
  },
});
