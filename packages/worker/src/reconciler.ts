import type { Lane } from '@clickvid/contracts';
import { keys, laneFor, QUEUE_NAMES, renderJobOptions, type JobLifecycle, type Logger, type Redis, type RenderJobData } from '@clickvid/core';
import { Queue } from 'bullmq';

/** Records younger than this are left alone: accepting writes the record a moment before its queue entry. */
const MIN_AGE_MS = 30_000;
/** Records looked at per lane and pass: bounded work, whatever the backlog. */
const PER_PASS = 200;

export interface ReconcileReport {
  requeued: number;
  failed: number;
}

/**
 * Repairs drift between job records and BullMQ, which no script can span: accepting writes
 * the record, then the queue entry; BullMQ fails a job that stalled too often without running
 * our code. For each lane, records queued or running for a while are checked against their
 * BullMQ job: none → queued again (the record is the truth, and execution is at least once);
 * failed or completed while the record still says queued/running → the record fails, which
 * also releases its quota reservation and queues its webhook. Every repair is idempotent,
 * so processes racing on it do no harm; a Redis lock keeps it to about one pass per interval.
 */
export async function reconcileOnce(opts: {
  redis: Redis;
  lifecycle: JobLifecycle;
  queues: Partial<Record<Lane, Queue<RenderJobData>>>;
  /** @defaultValue 30 s */
  minAgeMs?: number;
}): Promise<ReconcileReport> {
  const { redis, lifecycle, queues } = opts;
  const report: ReconcileReport = { requeued: 0, failed: 0 };
  const cutoff = Date.now() - (opts.minAgeMs ?? MIN_AGE_MS);
  for (const [lane, queue] of Object.entries(queues) as Array<[Lane, Queue<RenderJobData>]>) {
    const ids = [
      ...(await redis.zrangebyscore(keys.laneQueued(lane), '-inf', cutoff, 'LIMIT', 0, PER_PASS)),
      ...(await redis.zrangebyscore(keys.laneRunning(lane), '-inf', cutoff, 'LIMIT', 0, PER_PASS)),
    ];
    for (const id of ids) {
      const state = await queue.getJobState(id);
      if (state === 'unknown') {
        const raw = await redis.hmget(keys.job(id), 'status', 'quality', 'team', '_trace');
        if (!raw[0]) {
          // The record expired: nothing to run; drop it from the lane's sets.
          await redis.multi().zrem(keys.laneQueued(lane), id).zrem(keys.laneRunning(lane), id).exec();
          continue;
        }
        const status = JSON.parse(raw[0]) as string;
        if (status !== 'queued' && status !== 'running') continue;
        const quality = JSON.parse(raw[1]!) as Parameters<typeof laneFor>[0];
        // The submit's trace context (kept on the record) goes with it: the job stays one trace.
        await queue.add('render', { jobId: id, team: raw[2]!, ...(raw[3] ? { trace: raw[3] } : {}) }, renderJobOptions(id, quality));
        report.requeued++;
      } else if (state === 'failed' || state === 'completed') {
        const { verdict } = await lifecycle.fail(id, { code: 'internal_error', message: 'The job was lost by its worker.', retryable: true });
        if (verdict === 'done') report.failed++;
      }
    }
  }
  return report;
}

/** Runs {@link reconcileOnce} every `intervalMs` (0 = never), one process at a time. Answers stop(). */
export function startReconciler(opts: {
  redis: Redis;
  lifecycle: JobLifecycle;
  lanes: readonly Lane[];
  prefix: string | undefined;
  intervalMs: number;
  logger: Logger;
}): () => void {
  if (opts.intervalMs <= 0) return () => undefined;
  const queues: Partial<Record<Lane, Queue<RenderJobData>>> = {};
  for (const lane of opts.lanes) queues[lane] = new Queue<RenderJobData>(QUEUE_NAMES[lane], { connection: opts.redis, ...(opts.prefix ? { prefix: opts.prefix } : {}) });
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void (async () => {
      const won = await opts.redis.set(`cv:reconcile:${opts.prefix ?? 'bull'}`, '1', 'PX', opts.intervalMs, 'NX');
      if (!won) return;
      const r = await reconcileOnce({ redis: opts.redis, lifecycle: opts.lifecycle, queues });
      if (r.requeued || r.failed) opts.logger.warn(r, 'reconciler repaired job records');
    })()
      .catch((err: unknown) => opts.logger.warn({ err }, 'reconciler pass failed'))
      .finally(() => (running = false));
  }, opts.intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    for (const q of Object.values(queues)) void q.close().catch(() => undefined);
  };
}
