import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url));

const ALL = ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts', 'models/**/*.test.ts', 'examples/**/*.test.ts', 'deploy/**/*.test.ts', 'bench/**/*.test.ts'];

/**
 * Files that start the whole stack (server and worker processes as `npm start` runs them) or
 * kill processes. They run one at a time, after the others: two stacks at once on 2 cores
 * starve each other into timeouts. By convention they live in test/ (harness, faults) or
 * examples/, or are named *.e2e.test.ts; test/suite.test.ts fails when one is not.
 */
export const SERIAL = ['test/**/*.test.ts', 'examples/**/*.test.ts', 'packages/*/src/**/*.e2e.test.ts'];

// Shared by both projects: a project that `extends` the root would run the global setup again.
const shared = {
  resolve: {
    // Tests run against the sources of sibling packages, so a change needs no rebuild to be tested.
    alias: {
      '@clickvid/contracts': src('contracts'),
      '@clickvid/core': src('core'),
      '@clickvid/sdk': src('sdk'),
    },
  },
} satisfies TestProjectInlineConfiguration;
const timeouts = { testTimeout: 60_000, hookTimeout: 120_000 };

export default defineConfig({
  test: {
    // Installs what the tests need (promtool included) and builds, or fails naming what is missing.
    globalSetup: ['test/global-setup.ts'],
    projects: [
      {
        ...shared,
        // Suites start real redis-server, onnxruntime and ffmpeg; on 2 cores, two files at once is the sweet spot.
        test: { ...timeouts, name: 'parallel', include: ALL, exclude: [...configDefaults.exclude, ...SERIAL], maxWorkers: 2 },
      },
      {
        ...shared,
        // vitest runs a project without file parallelism in a group of its own, after the others.
        test: { ...timeouts, name: 'serial', include: SERIAL, fileParallelism: false },
      },
    ],
  },
});
