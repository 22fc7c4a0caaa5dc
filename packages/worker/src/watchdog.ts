import type { Worker } from 'node:worker_threads';
import { startThread } from './internal/threads.js';
import type { WatchdogState } from './watchdog-thread.js';

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
  private readonly state = new BigInt64Array(new SharedArrayBuffer(16));
  private readonly base = Date.now();
  private readonly thread: Worker | null;
  /** Settles once the thread checks the deadline (at once when the watchdog is off). */
  readonly ready: Promise<void>;

  /** @param timeoutMs how long work may go unfed; 0 turns the watchdog off. */
  constructor(private readonly timeoutMs: number) {
    this.thread = timeoutMs > 0 ? startThread('watchdog-thread', { state: this.state, base: this.base } satisfies WatchdogState) : null;
    const t = this.thread;
    this.ready = t ? new Promise((resolve, reject) => {
      t.once('message', () => resolve());
      t.once('error', reject);
    }) : Promise.resolve();
    // Never what keeps a process alive, once it runs (until then, it keeps `ready` answerable).
    this.ready.then(() => t?.unref(), () => undefined);
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
