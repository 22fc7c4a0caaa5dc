import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the sources of sibling packages, so a change needs no rebuild to be tested.
    alias: {
      '@clickvid/contracts': src('contracts'),
      '@clickvid/core': src('core'),
      '@clickvid/sdk': src('sdk'),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts', 'models/**/*.test.ts', 'examples/**/*.test.ts', 'deploy/**/*.test.ts', 'bench/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Suites start real redis-server, onnxruntime and ffmpeg; on 2 cores, two files at once is the sweet spot.
    maxWorkers: 2,
  },
});
