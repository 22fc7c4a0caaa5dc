import { Worker } from 'node:worker_threads';

/**
 * Ends the process when work that should make progress stops making it: a hung native
 * call (onnxruntime's `run` is synchronous and cannot be interrupted from JavaScript, and
 * blocks the main thread's timers with it). A tiny worker thread, whose event loop the
 * main thread cannot block, checks a deadline in shared memory and SIGKILLs the process
 * past it; BullMQ's stalled check then hands the jobs to another worker, and the local
 * supervisor (or Kubernetes) starts a new process.
 *
 * Armed while work runs (nested arms count), fed at every unit of progress (each step,
 * each batch), disarmed when it ends. The engine feeds it per unit; the worker arms it
 * around each inference call.
 */
export class Watchdog {
  /** [armed count, deadline in ms since `base`]. */
  private readonly state = new BigInt64Array(new SharedArrayBuffer(16));
  private readonly base = Date.now();
  private readonly thread: Worker | null;

  /** @param timeoutMs how long work may go unfed; 0 turns the watchdog off. */
  constructor(private readonly timeoutMs: number) {
    this.thread = timeoutMs > 0 ? new Worker(`(${watchdogThread.toString()})()`, { eval: true, workerData: { state: this.state, base: this.base } }) : null;
    // Never what keeps a process alive.
    this.thread?.unref();
  }

  /** Starts watching one piece of work; answers its disarm. */
  arm(): () => void {
    this.feed();
    Atomics.add(this.state, 0, 1n);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      Atomics.sub(this.state, 0, 1n);
    };
  }

  /** Progress: the deadline moves to now + timeout. */
  feed(): void {
    Atomics.store(this.state, 1, BigInt(Date.now() - this.base + this.timeoutMs));
  }

  async close(): Promise<void> {
    await this.thread?.terminate();
  }
}

/**
 * The thread's body, run from its source text (a `.ts` file cannot be loaded as a thread
 * under the test runner). Plain CommonJS; only Node built-ins.
 */
function watchdogThread(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { writeSync } = require('node:fs') as typeof import('node:fs');
  const { state, base } = workerData as { state: BigInt64Array; base: number };
  setInterval(() => {
    if (Atomics.load(state, 0) <= 0n) return;
    const late = Date.now() - base - Number(Atomics.load(state, 1));
    if (late <= 0) return;
    // Written synchronously from this thread: the main thread may be the one that is stuck.
    writeSync(2, `clickvid worker: watchdog: work made no progress for ${late} ms past its limit; ending the process so its jobs are redelivered\n`);
    process.kill(process.pid, 'SIGKILL');
  }, 100);
}
