import { createHash } from 'node:crypto';
import { ERROR_CATALOGUE, type Job, type Lane, type ModelRef, type Usage } from '@clickvid/contracts';
import {
  assetsFromCache, CACHE_HIT_USAGE, cachedAsset, contentKey, enqueueJobWebhook, newId, round,
  type AssetRecord, type AssetStore, type CachedOutput, type Config, type JobStore, type Logger, type ModelRegistry,
  type OutputCache, type RenderJobData, type ResolvedVariant, type Storage, type UsageLedger, type WebhookJobData,
} from '@clickvid/core';
import type { Job as BullJob, Queue } from 'bullmq';
import type { Encoder, EncodeSpec } from './encoder.js';
import { classifyError, toBullError, WorkerError } from './errors.js';
import { CoalescedProgress } from './internal/progress.js';
import type { WorkerMetrics } from './metrics.js';
import { RenderCanceled, type RenderShare, type ScheduledEngine } from './scheduled-engine.js';

/**
 * The output-cache seam. The server answers repeats at submit time; the worker
 * remembers what it rendered, and looks first, so a duplicate queued while
 * the original was still rendering costs nothing either.
 */
export interface RenderCache {
  lookup(key: string): Promise<CachedOutput | null>;
  remember(key: string, out: CachedOutput): Promise<void>;
}

/** The core OutputCache as a {@link RenderCache}: a hit counts only while its files are still in storage. */
export function outputCacheHook(cache: OutputCache, storage: Storage): RenderCache {
  return {
    lookup: (key) => cache.lookup(key, storage),
    remember: (key, out) => cache.put(key, out),
  };
}

export interface ProcessorDeps {
  config: Pick<Config, 'creditsPerGpuSecond'>;
  registry: ModelRegistry;
  store: JobStore;
  /** Progress and the cancellation check between stages, one round trip each. */
  assets: AssetStore;
  ledger: UsageLedger;
  storage: Storage;
  /** The process's one engine: its step scheduler runs every job's inference. */
  engine: Pick<ScheduledEngine, 'render'>;
  encoder: Encoder;
  metrics: WorkerMetrics;
  logger: Logger;
  /** Output cache; null turns it off. */
  cache?: RenderCache | null;
  /** Queue for job.* webhooks; null when nothing delivers them (tests). */
  webhooks?: Queue<WebhookJobData> | null;
}

export type RenderOutcome =
  | { status: 'succeeded'; gpu_seconds: number; batch_size: number; cache_hit: boolean }
  | { status: 'skipped'; reason: 'missing' | 'canceled' | 'finished' };

/** libx264 preset per lane: drafts want the first frame soonest, finals the smaller file. */
export const PRESET: Record<Lane, NonNullable<EncodeSpec['preset']>> = { draft: 'ultrafast', final: 'veryfast' };

/**
 * Niceness of a lane's ffmpeg processes: a final's libx264 gives the cores to drafts (their
 * inference, their in-process encode, the worker's event loop) whenever they want them.
 */
export const ENCODE_NICE: Record<Lane, number> = { draft: 0, final: 10 };

/** Progress when inference is done; units report their share of it. */
const INFERENCE_DONE = 0.6;

/**
 * The BullMQ processor for a lane. Per job: start (skip if canceled) → cache
 * → inference (a unit at a time, in the engine's step scheduler) → encode → store → succeed, checking for cancellation
 * between steps, so a running job stops at the next one. Failures go
 * through {@link classifyError}: unrecoverable ones fail the job now, others
 * are retried by BullMQ and fail the job only on the last attempt.
 */
export function createProcessor(lane: Lane, deps: ProcessorDeps) {
  return async (bull: BullJob<RenderJobData>): Promise<RenderOutcome> => {
    const { jobId } = bull.data;
    const log = deps.logger.child({ jobId, lane, attempt: bull.attemptsMade + 1 });
    try {
      return await render(lane, deps, bull, log);
    } catch (err) {
      const e = classifyError(err);
      const max = bull.opts.attempts ?? 1;
      const last = !e.retryable || bull.attemptsMade + 1 >= max;
      if (last) {
        await failJob(deps, jobId, e).catch((ferr: unknown) => log.error({ err: ferr }, 'could not record the failure'));
        deps.metrics.jobsTotal.inc({ lane, outcome: 'failed' });
        log.warn({ code: e.code, retryable: e.retryable, err: e.message }, 'job failed');
      } else {
        deps.metrics.jobsTotal.inc({ lane, outcome: 'retried' });
        log.info({ code: e.code, err: e.message }, 'attempt failed; BullMQ will retry');
      }
      throw toBullError(e);
    }
  };
}

async function render(lane: Lane, d: ProcessorDeps, bull: BullJob<RenderJobData>, log: Logger): Promise<RenderOutcome> {
  const { jobId } = bull.data;
  const started = await d.store.start(jobId, bull.attemptsMade + 1);
  if (!started) {
    // Not queued or running: canceled, gone (TTL), or finished by an earlier delivery of this job.
    const now = await d.store.get(jobId);
    return skipped(d, lane, !now ? 'missing' : now.job.status === 'canceled' ? 'canceled' : 'finished');
  }
  if (bull.attemptsMade === 0) d.metrics.queueWait(lane, Math.max(0, Date.now() - bull.timestamp) / 1000);
  const { job, team } = started;

  const { ref, variant } = pickModel(d.registry, job);
  const p = job.params;
  if (p.width !== variant.width || p.height !== variant.height) {
    throw new WorkerError('unsupported_parameter', `${variant.name} renders ${variant.width}x${variant.height}, the job asks ${p.width}x${p.height}`, {
      retryable: false,
    });
  }
  // prompt_not_understood (a ModelError) is unrecoverable: classifyError reads its code.
  const prompt = d.registry.encodePrompt(job.prompt);
  const key = contentKey(ref, prompt.normalized, p);

  // start() was the cancellation check before inference: only a cache lookup lies between.
  const hit = await d.cache?.lookup(key);
  if (hit) return completeFromCache(d, lane, job, team, ref, hit);

  // Inference, a unit at a time in the engine thread: progress after each unit, which is also
  // the cancellation check; a cancel found there drops the job at the engine's next unit boundary.
  const stop = new AbortController();
  const progress = new CoalescedProgress((f) => d.store.progress(jobId, f), () => stop.abort());
  let share: RenderShare;
  try {
    share = await d.engine.render(
      { lane, variant: variant.name, tokens: prompt.tokens, noise: d.registry.noise(p.seed), times: d.registry.times(p.frames) },
      { signal: stop.signal, onProgress: (f) => progress.report(INFERENCE_DONE * f) },
    );
  } catch (err) {
    if (err instanceof RenderCanceled) return skipped(d, lane, 'canceled');
    throw err;
  } finally {
    await progress.settle();
  }
  d.metrics.batchWaitSeconds.observe({ lane }, share.waitSeconds);
  // Hand the frames to the encoder in this same turn, before the cancel check's round trip.
  const encoding = d.encoder.encode({ width: p.width, height: p.height, fps: p.fps, frames: p.frames, preset: PRESET[lane], nice: ENCODE_NICE[lane] }, share.output);
  encoding.catch(() => undefined); // a job that stops here never looks at its result
  if (!(await d.store.progress(jobId, INFERENCE_DONE))) return skipped(d, lane, 'canceled');

  const enc = await encoding;
  d.metrics.encode(lane, enc.warm, enc.seconds);
  if (!(await d.store.progress(jobId, 0.85))) return skipped(d, lane, 'canceled');

  const now = new Date().toISOString();
  const base = { team, job_id: jobId, width: p.width, height: p.height, created_at: now };
  const video: AssetRecord = {
    ...base, id: newId('ast'), kind: 'video', storage_key: `jobs/${jobId}/video.mp4`, content_type: 'video/mp4',
    bytes: enc.video.length, frames: p.frames, duration_s: p.frames / p.fps, sha256: sha256(enc.video),
  };
  const poster: AssetRecord = {
    ...base, id: newId('ast'), kind: 'poster', storage_key: `jobs/${jobId}/poster.png`, content_type: 'image/png',
    bytes: enc.poster.length, frames: null, duration_s: null, sha256: sha256(enc.poster),
  };
  const stored = Promise.all([
    // Keys are per job, so a retried attempt overwrites its own earlier files.
    d.storage.put(video.storage_key, enc.video, { contentType: video.content_type }),
    d.storage.put(poster.storage_key, enc.poster, { contentType: poster.content_type }),
  ]).catch((err: unknown) => {
    throw new WorkerError('storage_failed', `storage put failed: ${(err as Error).message}`, { retryable: true, cause: err });
  });
  // The records are written beside the files; nothing points at them until the job succeeds.
  await Promise.all([stored, d.assets.put(video), d.assets.put(poster)]);

  const gpu = share.inferenceSeconds + enc.seconds;
  const usage: Usage = {
    gpu_seconds: round(gpu),
    credits: round(gpu * d.config.creditsPerGpuSecond),
    batch_size: share.batchSize,
    breakdown: { inference_s: round(share.inferenceSeconds), encode_s: round(enc.seconds) },
  };
  const done = await d.store.succeed(jobId, { assets: { video: video.id, poster: poster.id }, usage, model: ref, cache_hit: false });
  if (!done) {
    // Canceled between the last check and now: it stays canceled and unbilled, and its files go.
    await Promise.all([d.storage.delete(video.storage_key), d.storage.delete(poster.storage_key)]).catch(() => undefined);
    return skipped(d, lane, 'canceled');
  }
  // After succeed, never before: a retry after a lost reply must not bill twice.
  await Promise.all([
    d.ledger.record(team, job.quality, job.metadata['campaign'] ?? null, usage.gpu_seconds, usage.credits),
    d.cache?.remember(key, { video: cachedAsset(video), poster: cachedAsset(poster), job_id: jobId }).catch((err: unknown) =>
      log.warn({ err }, 'could not write the output cache'),
    ),
    webhook(d, done.job, team),
  ]);
  d.metrics.finished(done.job);
  d.metrics.jobsTotal.inc({ lane, outcome: 'succeeded' });
  log.info({ batch: share.batchSize, units: share.units, inference_s: usage.breakdown.inference_s, encode_s: usage.breakdown.encode_s, warm: enc.warm, encodeGroup: enc.groupSize }, 'job succeeded');
  return { status: 'succeeded', gpu_seconds: usage.gpu_seconds, batch_size: share.batchSize, cache_hit: false };
}

/**
 * The variant the job was accepted with, when this worker's manifest still has
 * it with the same sha256; otherwise (the model was updated since) the tier's
 * current one, and the job records the version that really made it.
 */
function pickModel(registry: ModelRegistry, job: Job): { ref: ModelRef; variant: ResolvedVariant } {
  let variant: ResolvedVariant | undefined;
  if (registry.manifest.variants[job.model.variant]) {
    const v = registry.variant(job.model.variant);
    if (v.sha256 === job.model.sha256) variant = v;
  }
  variant ??= registry.variant(registry.tier(job.quality).variant);
  return { ref: { id: registry.id, version: registry.version, variant: variant.name, sha256: variant.sha256 }, variant };
}

async function completeFromCache(d: ProcessorDeps, lane: Lane, job: Job, team: string, ref: ModelRef, hit: CachedOutput): Promise<RenderOutcome> {
  const { video, poster } = assetsFromCache(hit, team, job.id);
  await Promise.all([d.assets.put(video), d.assets.put(poster)]);
  const done = await d.store.succeed(job.id, { assets: { video: video.id, poster: poster.id }, usage: CACHE_HIT_USAGE, model: ref, cache_hit: true });
  if (!done) return skipped(d, lane, 'canceled');
  await d.ledger.record(team, job.quality, job.metadata['campaign'] ?? null, 0, 0);
  await webhook(d, done.job, team);
  d.metrics.finished(done.job);
  d.metrics.jobsTotal.inc({ lane, outcome: 'cache_hit' });
  return { status: 'succeeded', gpu_seconds: 0, batch_size: 0, cache_hit: true };
}

/**
 * Marks the job record failed with the error's code (and queues its webhook), unless it
 * already left queued/running: then this is a no-op, so calling it twice is safe.
 */
export async function failJob(d: Pick<ProcessorDeps, 'store' | 'webhooks' | 'metrics'>, jobId: string, e: WorkerError): Promise<void> {
  const entry = ERROR_CATALOGUE[e.code];
  // Input errors explain themselves to the caller; internal ones get the catalogue's words (details stay in the log).
  const message = entry.type === 'invalid_request_error' ? e.message : entry.message;
  const after = await d.store.fail(jobId, { code: e.code, message, retryable: e.retryable });
  if (after) {
    d.metrics.finished(after.job);
    await webhook(d, after.job, after.team);
  }
}

async function webhook(d: Pick<ProcessorDeps, 'webhooks'>, job: Job, team: string): Promise<void> {
  if (d.webhooks) await enqueueJobWebhook(d.webhooks, job, team);
}

function skipped(d: ProcessorDeps, lane: Lane, reason: 'missing' | 'canceled' | 'finished'): RenderOutcome {
  d.metrics.jobsTotal.inc({ lane, outcome: reason === 'canceled' ? 'canceled' : 'skipped' });
  return { status: 'skipped', reason };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
