import type { JobLifecycle, Queues } from '@clickvid/core';
import type { Logger } from 'pino';

/** How often each server looks for jobs past their deadline. */
export const DEADLINE_SWEEP_MS = 1000;
const BATCH = 100;

/**
 * Cancels queued jobs that have not started by their deadline (`deadline_s`), in the API
 * server: a deadline must hold when no worker of the job's lane exists at all. Every server
 * runs one; they share the `cv:deadlines` set, and each cancel is one lifecycle script that
 * only a still-queued job passes, so two sweepers racing (or a worker starting the job at the
 * same moment) end it once. The BullMQ job is then removed, as a cancel does.
 */
export class DeadlineSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly lifecycle: JobLifecycle,
    private readonly queues: Queues,
    private readonly logger: Logger,
    private readonly intervalMs = DEADLINE_SWEEP_MS,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => {
      this.running ??= this.sweep()
        .then(() => undefined, (err: unknown) => this.logger.warn({ err }, 'deadline sweep failed; retrying'))
        .finally(() => (this.running = null));
    }, this.intervalMs);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass: every overdue job, a batch at a time. Answers how many it canceled. */
  async sweep(now = Date.now()): Promise<number> {
    let n = 0;
    for (;;) {
      const ids = await this.lifecycle.overdue(BATCH, now);
      for (const id of ids) {
        const stored = await this.lifecycle.expire(id);
        if (!stored) continue;
        n++;
        await this.queues[stored.lane].remove(id).catch(() => 0);
      }
      if (ids.length < BATCH) return n;
    }
  }
}
