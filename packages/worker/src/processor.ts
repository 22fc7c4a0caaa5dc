import { createHash } from 'node:crypto';
import path from 'node:path';
import { ERROR_CATALOGUE, type Job, type Lane, type ModelRef, type Usage } from '@clickvid/contracts';
import {
  assetsFromCache, attemptKey, ATTEMPT_FILES, CACHE_HIT_USAGE, contentKey, crashAt, hitCapMs, modelDigest, newId, round,
  type AssetRecord, type Attempt, type CostEstimator, type CachedOutput, type Config, type JobLifecycle, type Logger, type ModelRegistry, type ModelVersions,
  type OutputCache, type RenderJobData, type ResolvedVariant, type Storage, type Tracer, type TraceSpan,
} from '@clickvid/core';
import type { Job as BullJob } from 'bullmq';
import type { Encoder, EncodeSpec } from './encoder.js';
import { classifyError, toBullError, WorkerError } from './errors.js';
import { CoalescedProgress } from './internal/progress.js';
import type { WorkerMetrics } from './metrics.js';
import { RenderCanceled, type RenderShare, type ScheduledEngine } from './scheduled-engine.js';
import { latentsBytes, type StartLatents } from './start-latents.js';

/**
 * The output-cache seam. The server answers repeats at submit time; the worker looks
 * first too, so a duplicate queued while the original was still rendering costs nothing
 * either. What a job rendered is remembered by its success script (see JobLifecycle).
 */
export interface RenderCache {
  lookup(key: string): Promise<CachedOutput | null>;
}

/** The core OutputCache as a {@link RenderCache}: a hit counts only while its files are still in storage. */
export function outputCacheHook(cache: OutputCache, storage: Storage): RenderCache {
  return { lookup: (key) => cache.lookup(key, storage) };
}

export interface ProcessorDeps {
  config: Pick<Config, 'creditsPerGpuSecond'> & Partial<Pick<Config, 'crashPoint'>>;
  /** The model versions this worker serves; a job renders with the one it was accepted with. */
  models: ModelVersions;
  /** Told what each rendered job was metered, so the servers' estimates (and quota reservations) follow the meter. */
  estimator?: Pick<CostEstimator, 'observe'>;
  /** Every state change of the job, fenced by the attempt's token. */
  lifecycle: JobLifecycle;
  storage: Storage;
  /** The process's one engine: its step scheduler runs every job's inference. */
  engine: Pick<ScheduledEngine, 'render' | 'renderPipeline'>;
  /** Where a job promoted from a draft starts (refine-on-promote); absent: every job starts from its seed. */
  starts?: Pick<StartLatents, 'forJob'>;
  encoder: Encoder;
  metrics: WorkerMetrics;
  logger: Logger;
  /** Output cache; null turns it off. */
  cache?: RenderCache | null;
  /** Spans of each attempt (queue wait, the job, inference, encode, upload); none when absent or off. */
  tracer?: Tracer;
}

export type RenderOutcome =
  | { status: 'succeeded'; gpu_seconds: number; batch_size: number; cache_hit: boolean }
  | { status: 'skipped'; reason: SkipReason };

/** Why an attempt stopped without a result: the job is gone, was canceled, finished, or taken by a newer attempt. */
type SkipReason = 'missing' | 'canceled' | 'finished' | 'superseded';

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
 * The BullMQ processor for a lane. Per job: start (a new fenced attempt; skip if
 * canceled or finished) → cache → inference (a unit at a time, in the engine's step
 * scheduler) → encode → store under the attempt's prefix → succeed (one script with all
 * its effects), checking between steps that the job was neither canceled nor taken by a
 * newer attempt. Failures go
 * through {@link classifyError}: unrecoverable ones fail the job now, others
 * are retried by BullMQ and fail the job only on the last attempt.
 */
export function createProcessor(lane: Lane, deps: ProcessorDeps) {
  return async (bull: BullJob<RenderJobData>): Promise<RenderOutcome> => {
    const { jobId } = bull.data;
    const log = deps.logger.child({ jobId, lane, attempt: bull.attemptsMade + 1 });
    const attempt: { current: Attempt | null } = { current: null };
    // The attempt's span, a child of the submit's (its context came in the BullMQ job data).
    const span = deps.tracer?.enabled
      ? deps.tracer.start('worker.job', {
          kind: 'consumer', parent: bull.data.trace,
          attributes: { 'clickvid.job_id': jobId, 'clickvid.lane': lane, 'clickvid.attempt': bull.attemptsMade + 1 },
        })
      : null;
    try {
      const out = await render(lane, deps, bull, log, attempt, span);
      span?.setAttribute('clickvid.outcome', out.status === 'succeeded' ? (out.cache_hit ? 'cache_hit' : 'succeeded') : out.reason);
      // The job's record is final; a crash from here on leaves BullMQ to redeliver a job whose
      // next start finds it finished and does nothing.
      crashAt(deps.config, 'before_ack');
      return out;
    } catch (err) {
      span?.fail(err);
      const e = classifyError(err);
      const max = bull.opts.attempts ?? 1;
      const last = !e.retryable || bull.attemptsMade + 1 >= max;
      if (last) {
        await failJob(deps, jobId, e, attempt.current?.token).catch((ferr: unknown) => log.error({ err: ferr }, 'could not record the failure'));
        deps.metrics.jobsTotal.inc({ lane, outcome: 'failed' });
        log.warn({ code: e.code, retryable: e.retryable, err: e.message }, 'job failed');
      } else {
        deps.metrics.jobsTotal.inc({ lane, outcome: 'retried' });
        log.info({ code: e.code, err: e.message }, 'attempt failed; BullMQ will retry');
      }
      throw toBullError(e);
    } finally {
      span?.end();
    }
  };
}

/** A child span of the attempt's, or null when not tracing. */
function stageSpan(d: ProcessorDeps, parent: TraceSpan | null, name: string): TraceSpan | null {
  if (!parent || !d.tracer) return null;
  return d.tracer.start(name, { parent: parent.context });
}

async function render(
  lane: Lane, d: ProcessorDeps, bull: BullJob<RenderJobData>, log: Logger, current: { current: Attempt | null }, span: TraceSpan | null,
): Promise<RenderOutcome> {
  const { jobId } = bull.data;
  const at = await d.lifecycle.start(jobId, bull.attemptsMade + 1);
  if (!at) {
    // Not queued or running: canceled, gone (TTL), or finished by an earlier delivery of this job.
    const now = await d.lifecycle.status(jobId);
    return skipped(d, lane, !now ? 'missing' : now === 'canceled' ? 'canceled' : 'finished');
  }
  current.current = at;
  if (bull.attemptsMade === 0) {
    d.metrics.queueWait(lane, Math.max(0, Date.now() - bull.timestamp) / 1000);
    // Submit to start, recorded now: a child of the submit's span, beside this attempt's.
    if (span && d.tracer) d.tracer.start('queue.wait', { parent: bull.data.trace, startTime: bull.timestamp, attributes: { 'clickvid.lane': lane } }).end();
  }
  const { job, team } = at.stored;
  const stop = (): Promise<RenderOutcome> => stopped(d, lane, jobId);

  const { registry, ref, variant } = pickModel(d.models, job);
  span?.setAttribute('clickvid.model_version', ref.version);
  span?.setAttribute('clickvid.variant', ref.variant);
  const p = job.params;
  if (p.width !== variant.width || p.height !== variant.height) {
    throw new WorkerError('unsupported_parameter', `${variant.name} renders ${variant.width}x${variant.height}, the job asks ${p.width}x${p.height}`);
  }
  // prompt_not_understood (a ModelError) is unrecoverable: classifyError reads its code.
  const prompt = registry.encodePrompt(job.prompt);
  // A job promoted from a draft starts from the draft's latents (waiting while the draft renders);
  // their hash is in the cache key, so it never shares an entry with a final made from the seed.
  const start = d.starts ? await d.starts.forJob(job, () => d.lifecycle.progress(jobId, at.token, 0)) : null;
  if (start === 'stopped') return stop();
  const key = contentKey(team, modelDigest(registry), ref, prompt.normalized, p, start?.sha256);

  // start() was the cancellation check before inference: only a cache lookup lies between.
  const hit = await d.cache?.lookup(key);
  if (hit) {
    // Null: the sweeper claimed the cached files since the lookup; render them anew.
    const out = await completeFromCache(d, lane, at, ref, hit);
    if (out) return out;
  }

  // Inference, a unit at a time in the engine thread: progress after each unit, which is also
  // the cancellation check; a cancel found there drops the job at the engine's next unit boundary.
  // A progress write answers false when the job was canceled or taken by a newer attempt.
  const abort = new AbortController();
  const progress = new CoalescedProgress((f) => d.lifecycle.progress(jobId, at.token, f), () => abort.abort());
  const control = { signal: abort.signal, onProgress: (f: number) => progress.report(INFERENCE_DONE * f) };
  let share: RenderShare;
  /** What a job promoted from this one starts from: a pipeline's final latents, the single graph's noise vector. */
  let latents: Float32Array | undefined;
  const inference = stageSpan(d, span, 'inference');
  const traced = { ...control, trace: inference?.context ?? null };
  try {
    if (registry.form === 'pipeline') {
      const { dir } = registry;
      share = await d.engine.renderPipeline(
        {
          lane, modelsDir: path.dirname(dir), model: path.basename(dir), quality: job.quality, prompt: job.prompt, seed: p.seed, frames: p.frames,
          ...(start ? { start: { latents: start.latents, frames: start.frames, width: start.width, height: start.height } } : {}),
        },
        traced,
      );
      latents = share.latents;
    } else {
      // The single graph's only latent is its seed noise vector: the same shape at every tier, so a promoted job takes its draft's as it is.
      latents = start?.latents ?? registry.noise(p.seed);
      share = await d.engine.render({ lane, variant: engineVariant(registry, variant.name), tokens: prompt.tokens, noise: latents, times: registry.times(p.frames) }, traced);
    }
  } catch (err) {
    inference?.fail(err);
    if (err instanceof RenderCanceled) return stop();
    throw err;
  } finally {
    inference?.end();
    await progress.settle();
  }
  d.metrics.batchWaitSeconds.observe({ lane }, share.waitSeconds);
  // Hand the frames to the encoder in this same turn, before the cancel check's round trip.
  const encodeSpan = stageSpan(d, span, 'encode');
  const encoding = d.encoder.encode({ width: p.width, height: p.height, fps: p.fps, frames: p.frames, preset: PRESET[lane], nice: ENCODE_NICE[lane] }, share.output);
  encoding.catch(() => undefined); // a job that stops here never looks at its result
  if (encodeSpan) void encoding.then(() => encodeSpan.end(), (err: unknown) => (encodeSpan.fail(err), encodeSpan.end()));
  if (!(await d.lifecycle.progress(jobId, at.token, INFERENCE_DONE))) return stop();

  const enc = await encoding;
  d.metrics.encode(lane, enc.warm, enc.seconds);
  if (!(await d.lifecycle.progress(jobId, at.token, 0.85))) return stop();

  const now = new Date().toISOString();
  const base = { team, job_id: jobId, width: p.width, height: p.height, created_at: now };
  // Under the attempt's own prefix: another delivery of this job never overwrites these files,
  // and only the attempt whose success script wins makes them the job's assets.
  const video: AssetRecord = {
    ...base, id: newId('ast'), kind: 'video', storage_key: attemptKey(job.quality, jobId, at.token, ATTEMPT_FILES[0]), content_type: 'video/mp4',
    bytes: enc.video.length, frames: p.frames, duration_s: p.frames / p.fps, sha256: sha256(enc.video),
  };
  const poster: AssetRecord = {
    ...base, id: newId('ast'), kind: 'poster', storage_key: attemptKey(job.quality, jobId, at.token, ATTEMPT_FILES[1]), content_type: 'image/png',
    bytes: enc.poster.length, frames: null, duration_s: null, sha256: sha256(enc.poster),
  };
  // Beside the video, for a job promoted from this one (a final is never promoted: it keeps none).
  const keepLatents = job.quality !== 'final' && latents !== undefined;
  const upload = stageSpan(d, span, 'upload');
  await Promise.all([
    d.storage.put(video.storage_key, enc.video, { contentType: video.content_type }),
    d.storage.put(poster.storage_key, enc.poster, { contentType: poster.content_type }),
    keepLatents ? d.storage.put(attemptKey(job.quality, jobId, at.token, ATTEMPT_FILES[2]), latentsBytes(latents!), { contentType: 'application/octet-stream' }) : null,
  ])
    .catch((err: unknown) => {
      upload?.fail(err);
      throw new WorkerError('storage_failed', `storage put failed: ${(err as Error).message}`, { cause: err });
    })
    .finally(() => upload?.end());
  crashAt(d.config, 'after_store');

  const gpu = share.inferenceSeconds + enc.seconds;
  const usage: Usage = {
    gpu_seconds: round(gpu),
    credits: round(gpu * d.config.creditsPerGpuSecond),
    batch_size: share.batchSize,
    breakdown: { inference_s: round(share.inferenceSeconds), encode_s: round(enc.seconds) },
  };
  // One script: the record, its asset records, the bill, the cache entry, the counters and the webhook.
  const finishing = stageSpan(d, span, 'job.succeed');
  const done = await d.lifecycle.succeed(at, { assets: { video, poster }, usage, model: ref, cacheHit: false, ...(d.cache ? { cacheKey: key } : {}) });
  finishing?.end();
  crashAt(d.config, 'after_succeed');
  if (done.verdict === 'refused' || done.verdict === 'missing') {
    // Canceled, or taken over by a newer attempt, since the last check: these files are this
    // attempt's alone and nothing points at them, so they go. Never another attempt's.
    await removeAttemptFiles(d, job.quality, jobId, [at.token], log);
    return stop();
  }
  // Files of attempts that lost (a crashed or stalled delivery) are nobody's assets.
  if (done.losers.length) await removeAttemptFiles(d, job.quality, jobId, done.losers, log);
  d.metrics.jobsTotal.inc({ lane, outcome: 'succeeded' });
  d.estimator?.observe(registry, job.quality, p, usage.gpu_seconds).catch((err: unknown) => log.warn({ err }, 'could not record the cost calibration'));
  log.info(
    {
      batch: share.batchSize, units: share.units, inference_s: usage.breakdown.inference_s, encode_s: usage.breakdown.encode_s, warm: enc.warm, encodeGroup: enc.groupSize,
      ...(start ? { start_from: start.from, start_sha256: start.sha256 } : {}),
    },
    'job succeeded',
  );
  return { status: 'succeeded', gpu_seconds: usage.gpu_seconds, batch_size: share.batchSize, cache_hit: false };
}

/** Deletes the files of attempts whose tokens are given; they are referenced by no asset record. */
async function removeAttemptFiles(d: ProcessorDeps, quality: Job['quality'], jobId: string, tokens: string[], log: Logger): Promise<void> {
  await Promise.all(tokens.flatMap((t) => ATTEMPT_FILES.map((f) => d.storage.delete(attemptKey(quality, jobId, t, f))))).catch((err: unknown) =>
    log.warn({ err }, 'could not remove the files of a losing attempt'),
  );
}

/**
 * The version the job was accepted with (a canary's, or its parent's) when this worker serves
 * it, else the stable one; in it, the variant the job was accepted with when the manifest still
 * has it with the same sha256, otherwise (the model was updated since) the tier's current one.
 * The job records the version that really made it.
 */
function pickModel(models: ModelVersions, job: Job): { registry: ModelRegistry; ref: ModelRef; variant: ResolvedVariant } {
  const registry = models.get(job.model.version) ?? models.stable;
  let variant: ResolvedVariant | undefined;
  if (registry.manifest.variants[job.model.variant]) {
    const v = registry.variant(job.model.variant);
    if (v.sha256 === job.model.sha256) variant = v;
  }
  variant ??= registry.variant(registry.tier(job.quality).variant);
  return { registry, ref: { id: registry.id, version: registry.version, variant: variant.name, sha256: variant.sha256 }, variant };
}

/**
 * The engine's name for a variant of a version: `<variant>@<version>`. Versions name their
 * variants alike, and the engine shares a call only among rows of one name, so a batch never
 * mixes versions.
 */
export const engineVariant = (registry: ModelRegistry, variant: string) => `${variant}@${registry.version}`;

/** The variant and version of an engine name ({@link engineVariant}). */
export function parseEngineVariant(name: string): { variant: string; version: string | null } {
  // A pipeline's unit names its model and component variant: `clickvid-shapes@3.0.0|int8-128`.
  const bar = name.indexOf('|');
  if (bar !== -1) {
    const model = name.slice(0, bar);
    const at = model.lastIndexOf('@');
    return { variant: name.slice(bar + 1), version: at === -1 ? null : model.slice(at + 1) };
  }
  const at = name.lastIndexOf('@');
  return at === -1 ? { variant: name, version: null } : { variant: name.slice(0, at), version: name.slice(at + 1) };
}

async function completeFromCache(d: ProcessorDeps, lane: Lane, at: Attempt, ref: ModelRef, hit: CachedOutput): Promise<RenderOutcome | null> {
  const { job, team } = at.stored;
  const assets = assetsFromCache(hit, team, job.id);
  const done = await d.lifecycle.succeed(at, { assets, usage: CACHE_HIT_USAGE, model: ref, cacheHit: true, capMs: hitCapMs(hit, d.storage) });
  if (done.verdict === 'stale') return null;
  if (done.verdict === 'refused' || done.verdict === 'missing') return stopped(d, lane, job.id);
  d.metrics.jobsTotal.inc({ lane, outcome: 'cache_hit' });
  return { status: 'succeeded', gpu_seconds: 0, batch_size: 0, cache_hit: true };
}

/**
 * Marks the job failed with the error's code, its reservation released and its webhook in
 * the outbox, unless it already left queued/running (or, with a token, another attempt
 * holds it): then nothing happens, so calling it twice is safe.
 */
export async function failJob(d: Pick<ProcessorDeps, 'lifecycle'>, jobId: string, e: WorkerError, token?: string): Promise<void> {
  const entry = ERROR_CATALOGUE[e.code];
  // Input errors explain themselves to the caller; internal ones get the catalogue's words (details stay in the log).
  const message = entry.type === 'invalid_request_error' ? e.message : entry.message;
  await d.lifecycle.fail(jobId, { code: e.code, message, retryable: e.retryable }, token);
}

/**
 * An attempt that stopped early: the job was canceled, or a newer attempt holds it or ended it.
 * The latter is a false stall: this worker lived, but lost its lock and the job was redelivered.
 */
async function stopped(d: ProcessorDeps, lane: Lane, jobId: string): Promise<RenderOutcome> {
  const status = await d.lifecycle.status(jobId);
  const reason: SkipReason = status === 'canceled' ? 'canceled' : status === null ? 'missing' : status === 'running' ? 'superseded' : 'finished';
  if (reason === 'superseded' || reason === 'finished') d.metrics.falseStall(lane);
  return skipped(d, lane, reason);
}

function skipped(d: ProcessorDeps, lane: Lane, reason: SkipReason): RenderOutcome {
  d.metrics.jobsTotal.inc({ lane, outcome: reason === 'canceled' ? 'canceled' : 'skipped' });
  return { status: 'skipped', reason };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
