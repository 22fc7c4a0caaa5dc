import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Server } from 'node:http';
import type { Lane, Quality } from '@clickvid/contracts';
import path from 'node:path';
import {
  AssetStore, ClusterMetrics, CostEstimator, JobLifecycle, JobStore, ModelVersions, NO_TRACER, OutputCache, QUEUE_NAMES, WebhookOutbox, createRedis, laneFor,
  startHeartbeat, startSweeper,
  type Config, type Tracer, type Logger, type ModelRegistry, type Redis, type RenderJobData, type Storage, type WebhookJobData,
} from '@clickvid/core';
import { Queue, Worker, type Job as BullJob } from 'bullmq';
import { Encoder } from './encoder.js';
import { WorkerMetrics } from './metrics.js';
import { createProcessor, ENCODE_NICE, engineVariant, outputCacheHook, parseEngineVariant, PRESET } from './processor.js';
import { startReconciler } from './reconciler.js';
import { ScheduledEngine, type ScheduledEngineOptions } from './scheduled-engine.js';
import { StartLatents } from './start-latents.js';
import { Watchdog } from './watchdog.js';

const QUALITIES: readonly Quality[] = ['draft', 'standard', 'final'];

/**
 * Jobs a lane holds at once, in max batches: one running, one collecting, and the jobs of the
 * batches before it that are still encoding, storing and finishing. With only two, the
 * collecting batch starved while those finished (mean batch 2.4–4.3 under a burst of 120
 * drafts, 5.2–6.7 with four), and larger batches are what make encoding and Redis cheaper per job.
 */
const BATCHES_IN_FLIGHT = 4;

export interface StartWorkerOptions {
  config: Config;
  /** The stable model (CLICKVID_MODEL). */
  registry: ModelRegistry;
  /** Every version served (the stable one and its canary). @defaultValue ModelVersions.from(registry, config.model.dir) */
  models?: ModelVersions;
  storage: Storage;
  logger: Logger;
  /** @defaultValue config.workerLanes (CLICKVID_WORKER_LANES) */
  lanes?: readonly Lane[];
  /** BullMQ key prefix. @defaultValue 'bull' (BullMQ's own) */
  prefix?: string;
  /** @defaultValue `<hostname>-<pid>-<random>` */
  workerId?: string;
  /** Output cache on (the default) or off. */
  cache?: boolean;
  /** Verify and load the lanes' model variants and start warm ffmpeg processes before taking jobs. @defaultValue true */
  warm?: boolean;
  /** Warm ffmpeg processes per encode spec (each tier's size and fps). @defaultValue 2 */
  warmEncoders?: number;
  /** OpenTelemetry spans of every job (see createTracer). @defaultValue NO_TRACER */
  tracer?: Tracer;
  /** Engine settings beyond what the config sets (e.g. tests that want every call batched). */
  engine?: Pick<ScheduledEngineOptions, 'rowsByCost' | 'unitMs' | 'minFinalShare' | 'maxPausedBytes'>;
}

export interface RunningWorker {
  readonly id: string;
  readonly lanes: readonly Lane[];
  readonly metrics: WorkerMetrics;
  readonly engine: ScheduledEngine;
  readonly encoder: Encoder;
  /** Armed around each inference call; an engine that runs in steps feeds it per step. */
  readonly watchdog: Watchdog;
  readonly workers: Partial<Record<Lane, Worker<RenderJobData>>>;
  /** The metrics HTTP server, when CLICKVID_WORKER_METRICS_PORT is set. */
  readonly metricsServer: Server | null;
  /**
   * Stops taking jobs and lets in-flight ones finish for up to `drainTimeoutMs` (config);
   * past it, puts the rest back in their queue for another worker, then releases
   * everything. Answers how many jobs it put back. Safe to call twice.
   */
  close(opts?: { drainTimeoutMs?: number }): Promise<{ requeued: number }>;
}

/**
 * Starts the worker: one engine for the process (a thread with the step scheduler), one BullMQ
 * Worker per lane whose concurrency is enough processors for four batches (see
 * {@link BATCHES_IN_FLIGHT}), and the heartbeat /readyz counts.
 */
export async function startWorker(opts: StartWorkerOptions): Promise<RunningWorker> {
  const { config, registry, storage, logger } = opts;
  const models = opts.models ?? ModelVersions.from(registry, config.model.dir);
  const tracer = opts.tracer ?? NO_TRACER;
  const lanes = opts.lanes ?? config.workerLanes;
  const id = opts.workerId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const prefix = opts.prefix;
  // Auto-pipelining: the jobs of a batch leave the engine together and take their steps in the
  // same event-loop turn, so their commands go out in one write instead of one each.
  const redis: Redis = createRedis(config.redisUrl, { enableAutoPipelining: true });
  const metrics = new WorkerMetrics({ defaultMetrics: true, cluster: { metrics: new ClusterMetrics(redis), redis } });
  const lifecycle = new JobLifecycle(redis, config.retention, config.teamEvents);
  const webhooks = new Queue<WebhookJobData>(QUEUE_NAMES.webhooks, { connection: redis, ...(prefix ? { prefix } : {}) });
  // Its own connection: it blocks on the outbox stream.
  const outbox = new WebhookOutbox(createRedis(config.redisUrl), webhooks, id, logger);
  const watchdog = new Watchdog(config.inferenceTimeoutMs);

  // One engine for both lanes: one copy of each model, and one scheduler that puts drafts first at every unit boundary.
  const engine = new ScheduledEngine({
    // Engine names are `<variant>@<version>` (see engineVariant): one session per version's file.
    resolveVariant: (name) => {
      const { variant, version } = parseEngineVariant(name);
      const r = (version === null ? undefined : models.get(version)) ?? registry;
      return { ...r.variant(variant), name, msPerFrame: msPerFrame(r, variant) };
    },
    intraOpNumThreads: config.ortThreads,
    executionProviders: [...config.executionProviders],
    unitMs: config.scheduler.unitMs,
    minFinalShare: config.scheduler.finalMinShare,
    maxPausedBytes: config.scheduler.maxPausedBytes,
    maxRows: { draft: config.batching.draft.maxBatch, final: config.batching.final.maxBatch },
    tracer,
    onUnit: ({ lane, variant, rows, seconds }) => {
      // Every unit that ends is progress: a unit that never ends (a hung native call) lets the watchdog fire.
      watchdog.feed();
      const v = parseEngineVariant(variant);
      metrics.batch(lane, v.variant, v.version ?? registry.version, rows, seconds);
    },
    ...opts.engine,
  });
  const warmPerSpec = opts.warmEncoders ?? 2;
  // Room for the three tiers' specs and one more (a degraded draft, another duration) without evicting.
  const encoder = new Encoder({ ffmpegPath: config.ffmpegPath, warmPerSpec, maxWarm: warmPerSpec * 4 });

  const closers: (() => Promise<unknown>)[] = [];
  try {
    // No job before the watchdog checks: a first inference that hangs must end the process too.
    await watchdog.ready;
    if (opts.warm ?? true) {
      // A missing file or a sha256 mismatch stops the worker here, before it takes a job it could only fail.
      if (registry.form === 'pipeline') await engine.warmPipeline(path.dirname(registry.dir), path.basename(registry.dir));
      for (const q of QUALITIES.filter((quality) => lanes.includes(laneFor(quality)))) {
        const tier = registry.tier(q);
        const v = registry.variant(tier.variant);
        for (const { registry: r } of models.served()) if (r.form === 'graph') await engine.warm(engineVariant(r, r.tier(q).variant));
        const frames = Math.max(1, Math.round(tier.duration_s * tier.fps));
        await encoder.prewarm({ width: v.width, height: v.height, fps: tier.fps, frames, preset: PRESET[laneFor(q)], nice: ENCODE_NICE[laneFor(q)] });
      }
    }

    const deps = {
      config, models, lifecycle, storage, encoder, metrics, tracer,
      estimator: new CostEstimator(redis),
      engine: watched(engine, watchdog),
      starts: new StartLatents({ redis, store: new JobStore(redis), assets: new AssetStore(redis, config.retention.filesS.final), storage, registry, logger }),
      logger: logger.child({ worker: id }),
      cache: opts.cache === false ? null : outputCacheHook(new OutputCache(redis, config.retention.filesS.final), storage),
    };
    const workers: Partial<Record<Lane, Worker<RenderJobData>>> = {};
    /** Jobs in flight, with BullMQ's lock token: what a drain past its deadline puts back. */
    const active = new Map<string, { job: BullJob<RenderJobData>; token: string | undefined }>();
    for (const lane of lanes) {
      const tierMax = Math.max(...QUALITIES.filter((q) => laneFor(q) === lane).map((q) => registry.tier(q).max_batch));
      const maxBatch = Math.min(config.batching[lane].maxBatch, tierMax);
      // Its own connection: the worker's blocking fetch must not hold up the job store's commands.
      // BullMQ does not close a connection it was handed, so close() quits it after the worker.
      const connection = createRedis(config.redisUrl);
      const processJob = createProcessor(lane, deps);
      const lock = config.locks[lane];
      const w = new Worker<RenderJobData>(
        QUEUE_NAMES[lane],
        async (job, token) => {
          active.set(job.id!, { job, token });
          try {
            return await processJob(job);
          } finally {
            active.delete(job.id!);
          }
        },
        {
          connection,
          concurrency: config.workerConcurrency ?? Math.max(2, maxBatch * BATCHES_IN_FLIGHT),
          lockDuration: lock.lockMs,
          stalledInterval: lock.stalledIntervalMs,
          maxStalledCount: lock.maxStalledCount,
          ...(prefix ? { prefix } : {}),
        },
      );
      w.on('error', (err) => logger.error({ err, lane }, 'bullmq worker error'));
      w.on('failed', (job, err) => {
        // BullMQ fails some jobs without running the processor: one that stalled more often than
        // allowed (its workers died mid-job) fails on its next fetch. Its record would stay
        // "running"; end it here (the reconciler catches what this misses). The event also fires
        // in a worker that merely lost its lock (a stall, a Redis restart) while the job lives on
        // elsewhere, so the record fails only when BullMQ really holds the job as failed. For
        // failures the processor already recorded this is a no-op.
        if (!job || !(err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1))) return;
        void (async () => {
          if ((await job.getState()) !== 'failed') return;
          await lifecycle.fail(job.data.jobId, { code: 'internal_error', message: 'The job failed after its worker stopped repeatedly.', retryable: true });
        })().catch((ferr: unknown) => logger.error({ err: ferr, jobId: job.data.jobId }, 'could not record the failure'));
      });
      workers[lane] = w;
      closers.push(async () => {
        await w.close();
        await connection.quit().catch(() => connection.disconnect());
      });
    }
    await Promise.all(Object.values(workers).map((w) => w.waitUntilReady()));
    const metricsServer = config.workerMetricsPort === undefined ? null : await metrics.serve(config.workerMetricsPort);
    closers.push(async () => {
      if (metricsServer) await new Promise((r) => metricsServer.close(r));
    });
    outbox.start();
    const stopReconciler = startReconciler({
      redis, lifecycle, lanes, prefix, intervalMs: config.reconcileIntervalMs, logger: logger.child({ worker: id }),
    });
    // Deletes expired files and drops expired records; safe on every replica (atomic claims).
    const stopSweeper = startSweeper({ redis, storage, intervalMs: config.sweepIntervalMs, logger: logger.child({ worker: id }) });
    // Last: /readyz counts this worker only once it can really take jobs.
    const stopHeartbeat = startHeartbeat(redis, id);

    let closing: Promise<{ requeued: number }> | null = null;
    return {
      id, lanes, metrics, engine, encoder, watchdog, workers, metricsServer,
      close(o = {}) {
        closing ??= (async () => {
          // Leave /readyz first, so no one counts on this worker while it drains.
          await stopHeartbeat();
          stopReconciler();
          stopSweeper();
          // Worker.close() stops fetching and waits for the jobs in flight (and so for their batches).
          const drained = Promise.all(closers.map((c) => c()));
          const deadline = o.drainTimeoutMs ?? config.drainTimeoutMs;
          let timer: NodeJS.Timeout | undefined;
          const late = await Promise.race([
            drained.then(() => false),
            new Promise<boolean>((r) => (timer = setTimeout(() => r(true), deadline))),
          ]);
          clearTimeout(timer);
          let requeued = 0;
          if (late) {
            // Past the deadline: give the jobs back now instead of leaving them to lock expiry.
            // Another worker's start() supersedes this process's attempts, whose late writes are fenced off.
            for (const { job, token } of active.values()) {
              if (await job.moveToWait(token).then(() => true, () => false)) requeued++;
            }
            logger.warn({ requeued, deadlineMs: deadline }, 'drain deadline passed: in-flight jobs put back in their queue');
            return { requeued };
          }
          await encoder.close();
          await engine.close();
          await watchdog.close();
          await outbox.close();
          await webhooks.close();
          await redis.quit().catch(() => redis.disconnect());
          await tracer.shutdown().catch(() => undefined);
          return { requeued };
        })();
        return closing;
      },
    };
  } catch (err) {
    for (const c of closers) await c().catch(() => undefined);
    await encoder.close();
    await engine.close();
    await watchdog.close();
    await webhooks.close().catch(() => undefined);
    redis.disconnect();
    throw err;
  }
}

/**
 * The manifest's cost of one frame of a variant at batch 1 (ms): the tier that uses it, its
 * ms_per_video over its frames. It sizes a final's units, so it must not depend on timing.
 */
function msPerFrame(registry: ModelRegistry, variant: string): number {
  for (const q of QUALITIES) {
    const tier = registry.tier(q);
    if (tier.variant !== variant) continue;
    const ms = tier.ms_per_video['1'] ?? Object.values(tier.ms_per_video)[0];
    if (ms !== undefined) return ms / Math.max(1, Math.round(tier.duration_s * tier.fps));
  }
  // A variant no tier names (an old job's): cut it as finely as possible.
  return Infinity;
}

/**
 * The engine as the processors see it: the watchdog is armed while any render is in flight
 * (the engine feeds it after every unit), so a unit that hangs in native code ends the process.
 */
function watched(engine: ScheduledEngine, watchdog: Watchdog): Pick<ScheduledEngine, 'render' | 'renderPipeline'> {
  const arm = async <T>(run: () => Promise<T>): Promise<T> => {
    const disarm = watchdog.arm();
    try {
      return await run();
    } finally {
      disarm();
    }
  };
  return {
    render: (...args) => arm(() => engine.render(...args)),
    renderPipeline: (...args) => arm(() => engine.renderPipeline(...args)),
  };
}
