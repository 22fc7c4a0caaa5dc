import type { Job, Lane, Quality } from '@clickvid/contracts';
import {
  assetsFromCache, CACHE_HIT_USAGE, enqueueJobWebhook, jobLabels, RENDER_JOB_OPTIONS,
  type AssetStore, type CachedOutput, type JobStore, type OutputCache, type Queues, type Storage, type UsageLedger,
} from '@clickvid/core';
import { ApiError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { GroupCommit } from './group-commit.js';

/** A job checked, priced and with its effective parameters, ready to be written. */
export interface NewJob {
  job: Job;
  team: string;
  lane: Lane;
  /** The output cache key of its pixels (see contentKey). */
  contentKey: string;
}

export interface JobWriterDeps {
  store: JobStore;
  assets: AssetStore;
  cache: OutputCache;
  storage: Storage;
  ledger: UsageLedger;
  queues: Queues;
  metrics: Metrics;
}

/**
 * Writes new jobs to Redis, grouped per event-loop turn (see GroupCommit): one MGET for
 * the output cache, one transaction for the records of the misses, one `addBulk` per
 * lane. A job is answered only once its record and its queue entry are both in Redis,
 * and each job succeeds or fails on its own.
 */
export class JobWriter {
  private readonly group = new GroupCommit<NewJob, Job>((jobs) => this.commit(jobs));

  constructor(private readonly d: JobWriterDeps) {}

  /** Resolves with the job as stored: queued with its queue position, or succeeded from the output cache. */
  write(job: NewJob): Promise<Job> {
    return this.group.submit(job);
  }

  private async commit(jobs: NewJob[]): Promise<Array<Job | Error>> {
    const cached = await this.d.cache.lookupMany(jobs.map((j) => j.contentKey), this.d.storage);
    const outcomes = new Map<NewJob, Job | Error>();
    await Promise.all([
      ...jobs.map(async (j, i) => {
        const hit = cached[i];
        if (hit) outcomes.set(j, await this.completeFromCache(j, hit).catch((err: Error) => err));
      }),
      this.queue(jobs.filter((_, i) => !cached[i]), outcomes),
    ]);
    return jobs.map((j) => outcomes.get(j)!);
  }

  /** Records first, then queue entries: a worker never picks up a job it cannot read. */
  private async queue(jobs: NewJob[], outcomes: Map<NewJob, Job | Error>): Promise<void> {
    if (jobs.length === 0) return;
    const positions = await this.d.store.createMany(jobs);
    const unqueued = await this.enqueue(jobs.filter((_, i) => !(positions[i] instanceof Error)));
    await Promise.all(
      jobs.map(async (j, i) => {
        const position = positions[i]!;
        if (!(position instanceof Error || unqueued.has(j))) {
          outcomes.set(j, { ...j.job, queue_position: position });
          return;
        }
        // Not left queued without a queue entry: it would count in every later queue position.
        await this.d.store.fail(j.job.id, { code: 'internal_error', message: 'The job could not be queued.' }).catch(() => null);
        outcomes.set(j, position instanceof Error ? position : new ApiError('service_unavailable', 'The queue is unavailable; retry shortly.', { headers: { 'retry-after': '2' } }));
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
      const entries = inLane.map(({ job, team }) => ({
        name: 'render',
        data: { jobId: job.id, team },
        opts: { ...RENDER_JOB_OPTIONS, jobId: job.id, priority: priorityOf(job.quality) },
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

  /** A finished copy of the job from the output cache, with asset records of the team's own, billed nothing. */
  private async completeFromCache({ job, team, lane }: NewJob, hit: CachedOutput): Promise<Job> {
    const { video, poster } = assetsFromCache(hit, team, job.id);
    await Promise.all([this.d.assets.put(video), this.d.assets.put(poster)]);
    const done: Job = {
      ...job,
      status: 'succeeded',
      progress: 1,
      cache_hit: true,
      assets: { video: video.id, poster: poster.id },
      usage: CACHE_HIT_USAGE,
      started_at: video.created_at,
      finished_at: video.created_at,
    };
    await this.d.store.create({ job: done, team, lane });
    await this.d.ledger.record(team, job.quality, job.metadata.campaign ?? null, 0, 0);
    this.d.metrics.cluster.inc('clickvid_cache_hits_total', jobLabels(job));
    this.d.metrics.cluster.inc('clickvid_jobs_total', { ...jobLabels(job), status: 'succeeded' });
    await enqueueJobWebhook(this.d.queues.webhooks, done, team);
    return done;
  }
}

/** BullMQ priority: lower runs first. Within the final lane, standard goes before final. */
const priorityOf = (q: Quality) => (q === 'final' ? 10 : q === 'standard' ? 5 : 1);
