import type { Job, Lane } from '@clickvid/contracts';
import {
  assetsFromCache, CACHE_HIT_USAGE, hitCapMs, renderJobOptions,
  type CachedOutput, type JobLifecycle, type OutputCache, type Queues, type RenderJobData, type Storage, type TraceParent,
} from '@clickvid/core';
import { ApiError } from '../errors.js';
import { GroupCommit } from './group-commit.js';

/** A job checked, priced and with its effective parameters, ready to be written. */
export interface NewJob {
  job: Job;
  team: string;
  lane: Lane;
  /**
   * The output cache key of its pixels (see contentKey); null when it is not known at submit: a
   * promoted job's key holds the hash of its draft's latents, which the worker reads (and looks up).
   */
  contentKey: string | null;
  /** The team's daily quota in GPU-seconds (undefined = none): the job's estimate is reserved against it. */
  quotaS: number | undefined;
  /** The submit's span context (W3C traceparent) when tracing is on: carried to the worker, kept for the webhook. */
  trace?: TraceParent | null;
}

export interface JobWriterDeps {
  lifecycle: JobLifecycle;
  cache: OutputCache;
  storage: Storage;
  queues: Queues;
}

/**
 * Writes new jobs to Redis, grouped per event-loop turn (see GroupCommit): one MGET for
 * the output cache, one accept script per job (auto-pipelined: one write) that checks the
 * quota and reserves the estimate atomically, one `addBulk` per lane. A job is answered
 * only once its record and its queue entry are both in Redis, and each job succeeds or
 * fails on its own. A crash between the two leaves a record without a queue entry; the
 * reconciler (worker/src/reconciler.ts) queues it.
 */
export class JobWriter {
  private readonly group = new GroupCommit<NewJob, Job>((jobs) => this.commit(jobs));

  constructor(private readonly d: JobWriterDeps) {}

  /** Resolves with the job as stored: queued with its queue position, or succeeded from the output cache. */
  write(job: NewJob): Promise<Job> {
    return this.group.submit(job);
  }

  private async commit(jobs: NewJob[]): Promise<Array<Job | Error>> {
    const known = jobs.filter((j) => j.contentKey !== null);
    const found = known.length === 0 ? [] : await this.d.cache.lookupMany(known.map((j) => j.contentKey!), this.d.storage);
    const hits = new Map(found.map((hit, i) => [known[i]!, hit]));
    const cached = jobs.map((j) => hits.get(j) ?? null);
    const outcomes = new Map<NewJob, Job | Error>();
    // A hit whose files the sweeper claimed since the lookup is rendered like a miss.
    const stale: NewJob[] = [];
    await Promise.all([
      ...jobs.map(async (j, i) => {
        const hit = cached[i];
        if (!hit) return;
        const done = await this.completeFromCache(j, hit).catch((err: Error) => err);
        if (done === null) stale.push(j);
        else outcomes.set(j, done);
      }),
      this.queue(jobs.filter((_, i) => !cached[i]), outcomes),
    ]);
    await this.queue(stale, outcomes);
    return jobs.map((j) => outcomes.get(j)!);
  }

  /** Records first, then queue entries: a worker never picks up a job it cannot read. */
  private async queue(jobs: NewJob[], outcomes: Map<NewJob, Job | Error>): Promise<void> {
    if (jobs.length === 0) return;
    const accepted = await Promise.all(
      jobs.map((j) =>
        this.d.lifecycle
          .accept({ job: j.job, team: j.team, lane: j.lane, reserveS: j.job.estimate.gpu_seconds, quotaS: j.quotaS, ...(j.trace ? { trace: j.trace } : {}) })
          .catch((err: Error) => err),
      ),
    );
    const written = jobs.filter((_, i) => {
      const a = accepted[i]!;
      return !(a instanceof Error) && a.ok;
    });
    const unqueued = await this.enqueue(written);
    await Promise.all(
      jobs.map(async (j, i) => {
        const a = accepted[i]!;
        if (a instanceof Error) {
          // A script stops at its failing command, keeping the writes before it: do not leave a half-written record queued.
          await this.d.lifecycle.fail(j.job.id, { code: 'internal_error', message: 'The job could not be stored.' }).catch(() => null);
          return void outcomes.set(j, a);
        }
        if (!a.ok) {
          return void outcomes.set(
            j,
            new ApiError('quota_exceeded', `The team's daily quota of ${j.quotaS} GPU-seconds is used up (with the jobs still running).`, {
              headers: { 'retry-after': String(secondsToUtcMidnight()) },
            }),
          );
        }
        if (!unqueued.has(j)) return void outcomes.set(j, { ...j.job, queue_position: a.position });
        // Not left queued without a queue entry: it would count in every later queue position.
        await this.d.lifecycle.fail(j.job.id, { code: 'internal_error', message: 'The job could not be queued.' }).catch(() => null);
        outcomes.set(j, new ApiError('service_unavailable', 'The queue is unavailable; retry shortly.', { headers: { 'retry-after': '2' } }));
      }),
    );
  }

  /** Adds jobs to their lane's BullMQ queue, one addBulk per lane. Answers the jobs that could not be added, with why. */
  private async enqueue(jobs: NewJob[]): Promise<Map<NewJob, Error>> {
    const failed = new Map<NewJob, Error>();
    const add = async (lane: Lane) => {
      const inLane = jobs.filter((j) => j.lane === lane);
      if (inLane.length === 0) return;
      const queue = this.d.queues[lane];
      const entries = inLane.map(({ job, team, trace }) => ({
        name: 'render',
        data: { jobId: job.id, team, ...(trace ? { trace } : {}) } satisfies RenderJobData,
        opts: renderJobOptions(job.id, job.quality),
      }));
      try {
        await queue.addBulk(entries);
      } catch {
        // addBulk fails as a whole without saying which jobs went in. Adding is idempotent
        // per jobId, so adding them one at a time settles each job on its own.
        await Promise.all(entries.map((e, i) => queue.add(e.name, e.data, e.opts).catch((err: Error) => failed.set(inLane[i]!, err))));
      }
    };
    await Promise.all([add('draft'), add('final')]);
    return failed;
  }

  /**
   * A finished copy of the job from the output cache, with asset records of the team's own,
   * billed nothing: one accept script writes it succeeded with every effect of a success.
   * Null when the cached files were claimed by the sweeper meanwhile.
   */
  private async completeFromCache({ job, team, lane, quotaS }: NewJob, hit: CachedOutput): Promise<Job | null> {
    const cached = { ...assetsFromCache(hit, team, job.id), capMs: hitCapMs(hit, this.d.storage) };
    const done: Job = {
      ...job,
      status: 'succeeded',
      progress: 1,
      cache_hit: true,
      assets: { video: cached.video.id, poster: cached.poster.id },
      usage: CACHE_HIT_USAGE,
      started_at: cached.video.created_at,
      finished_at: cached.video.created_at,
    };
    const a = await this.d.lifecycle.accept({ job: done, team, lane, reserveS: 0, quotaS, cached });
    if (!a.ok && a.reason === 'stale') return null;
    return { ...done, expires_at: a.ok ? a.expiresAt : null };
  }
}

export function secondsToUtcMidnight(): number {
  const now = new Date();
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.ceil((midnight - now.getTime()) / 1000);
}
