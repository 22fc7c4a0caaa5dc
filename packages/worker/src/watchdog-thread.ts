/**
 * The watchdog's thread (see watchdog.ts): checks the deadline in shared memory every 100 ms
 * and SIGKILLs the process once armed work is past it. Only Node built-ins; nothing here can
 * be blocked by the main thread.
 */
import { writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

export interface WatchdogState {
  /** [armed count, deadline in ms since `base`]. */
  state: BigInt64Array;
  base: number;
}

const { state, base } = workerData as WatchdogState;
setInterval(() => {
  if (Atomics.load(state, 0) <= 0n) return;
  const late = Date.now() - base - Number(Atomics.load(state, 1));
  if (late <= 0) return;
  // Written synchronously from this thread: the main thread may be the one that is stuck.
  writeSync(2, `clickvid worker: watchdog: work made no progress for ${late} ms past its limit; ending the process so its jobs are redelivered\n`);
  process.kill(process.pid, 'SIGKILL');
}, 100);
parentPort?.postMessage('ready');
