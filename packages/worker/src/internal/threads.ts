import { Worker } from 'node:worker_threads';

/**
 * Starts the worker-thread module `<name>.js` of this package (engine-thread, watchdog-thread).
 * Run from the TypeScript sources (vitest), the thread is the .ts module, loaded through
 * tsx's loader: a worker does not inherit the test runner's transform.
 */
export function startThread(name: string, workerData: unknown): Worker {
  if (import.meta.url.endsWith('.ts')) {
    const entry = new URL(`../${name}.ts`, import.meta.url).href;
    return new Worker(new URL('./ts-thread.mjs', import.meta.url), { workerData, argv: [entry] });
  }
  return new Worker(new URL(`../${name}.js`, import.meta.url), { workerData });
}
