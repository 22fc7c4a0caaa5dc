import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job, Quality } from '@clickvid/contracts';
import {
  AssetStore, JobLifecycle, JobStore, laneFor, ModelRegistry, newId, QUEUE_NAMES, RENDER_JOB_OPTIONS, UsageLedger, createLogger,
  createRedis, createStorage, keys, utcDay, type Config, type Redis, type RenderJobData, type Storage,
} from '@clickvid/core';
import { Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ffprobe, testModel, workerBed, type WorkerBed } from './internal/testing.testkit.js';
import { reconcileOnce } from './reconciler.js';
import { startWorker, type RunningWorker, type StartWorkerOptions } from './worker.js';

const model = testModel();
const TEAM = 'team_test';

describe('worker end to end (real redis, BullMQ, onnxruntime, ffmpeg, local storage)', () => {
  let bed: WorkerBed;
  let redis: Redis;
  let config: Config;
  let registry: ModelRegistry;
  let store: JobStore;
  let lifecycle: JobLifecycle;
  const running: RunningWorker[] = [];
  const queues: Queue<RenderJobData>[] = [];

  beforeAll(async () => {
    bed = await workerBed(model, inject('redisUrl' as never) as string | undefined);
    ({ redis, config, registry, store, lifecycle } = bed);
  });

  afterAll(async () => {
    for (const w of running) await w.close();
    for (const q of queues) await q.close();
    await bed?.close();
  });

  /** A worker on its own BullMQ prefix, so suites sharing one Redis never take each other's jobs. */
  async function worker(opts: { storage?: Storage; registry?: ModelRegistry; warm?: boolean; cache?: boolean; prefix?: string; engine?: StartWorkerOptions['engine'] } = {}) {
    const prefix = opts.prefix ?? `test-${randomBytes(4).toString('hex')}`;
    const w = await startWorker({
      config,
      registry: opts.registry ?? registry,
      storage: opts.storage ?? createStorage(config),
      logger: createLogger(config, 'worker-test'),
      prefix,
      cache: opts.cache ?? false,
      ...(opts.warm === undefined ? {} : { warm: opts.warm }),
      ...(opts.engine ? { engine: opts.engine } : {}),
    });
    running.push(w);
    const q = {
      draft: new Queue<RenderJobData>(QUEUE_NAMES.draft, { connection: redis, prefix }),
      final: new Queue<RenderJobData>(QUEUE_NAMES.final, { connection: redis, prefix }),
    };
    queues.push(q.draft, q.final);
    return { w, q, prefix };
  }

  /** Creates a job the way the server does (record first, then the BullMQ job with the same id). */
  async function submit(
    q: Record<'draft' | 'final', Queue<RenderJobData>>,
    prompt: string,
    quality: Quality = 'draft',
    extra: { seed?: number; status?: Job['status']; metadata?: Record<string, string>; attempts?: number } = {},
  ): Promise<string> {
    const id = newId('job');
    const params = registry.resolveParams(quality, { seed: extra.seed ?? 7 }, () => 7);
    const job: Job = {
      id, object: 'job', status: extra.status ?? 'queued', quality, prompt, params, model: registry.modelRef(quality),
      progress: 0, queue_position: null, estimate: { gpu_seconds: 0.1, credits: 1 }, usage: null, assets: null, error: null,
      warnings: [], metadata: extra.metadata ?? {}, parent_job_id: null, webhook_url: null, cache_hit: false, degraded: false,
      attempts: 0, created_at: new Date().toISOString(), started_at: null, finished_at: null, expires_at: null,
    };
    const lane = laneFor(quality);
    await lifecycle.accept({ job, team: TEAM, lane, reserveS: 0, quotaS: undefined });
    await q[lane].add('render', { jobId: id, team: TEAM }, { ...RENDER_JOB_OPTIONS, jobId: id, ...(extra.attempts ? { attempts: extra.attempts } : {}) });
    return id;
  }

  async function settled(id: string, timeoutMs = 30_000): Promise<Job> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const s = await store.get(id);
      if (s && ['succeeded', 'failed', 'canceled'].includes(s.job.status)) return s.job;
      if (Date.now() > end) throw new Error(`job ${id} still ${s?.job.status} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('renders a draft: MP4 and poster in storage, asset records, usage, ledger, heartbeat, metrics', async () => {
    const { w, q } = await worker();
    const id = await submit(q, 'a red circle moving right', 'draft', { metadata: { campaign: 'spring' } });
    const job = await settled(id);
    expect(job).toMatchObject({ status: 'succeeded', progress: 1, cache_hit: false, error: null, attempts: 1 });
    expect(job.model).toEqual(registry.modelRef('draft'));
    const p = job.params;

    const assets = new AssetStore(redis, config.retention.filesS.final);
    const video = (await assets.get(job.assets!.video))!;
    const poster = (await assets.get(job.assets!.poster))!;
    expect(video).toMatchObject({ team: TEAM, job_id: id, kind: 'video', content_type: 'video/mp4', width: p.width, height: p.height, frames: p.frames });
    expect(poster).toMatchObject({ kind: 'poster', content_type: 'image/png' });
    const bytes = readFileSync(join(config.storage.dir, video.storage_key));
    expect(bytes.length).toBe(video.bytes);
    expect(await ffprobe(bytes)).toMatchObject({ codec: 'h264', pixFmt: 'yuv420p', width: p.width, height: p.height, frames: p.frames, fps: p.fps });
    expect(readFileSync(join(config.storage.dir, poster.storage_key)).subarray(1, 4).toString()).toBe('PNG');

    const u = job.usage!;
    expect(u.batch_size).toBe(1);
    expect(u.breakdown.inference_s).toBeGreaterThan(0);
    expect(u.breakdown.encode_s).toBeGreaterThan(0);
    expect(u.gpu_seconds).toBeCloseTo(u.breakdown.inference_s + u.breakdown.encode_s, 5);
    expect(u.credits).toBeCloseTo(u.gpu_seconds * config.creditsPerGpuSecond, 4);
    const rows = await new UsageLedger(redis).report(TEAM, utcDay(), utcDay());
    expect(rows.find((r) => r.campaign === 'spring')).toMatchObject({ quality: 'draft', jobs: 1 });

    expect(await redis.zscore(keys.workers(), w.id)).not.toBeNull();
    const text = await w.metrics.registry.metrics();
    expect(text).toMatch(/clickvid_batch_size_count\{lane="draft",variant="[^"]+",model_version="2\.0\.0"\} 1/);
    expect(text).toMatch(/clickvid_encode_seconds_count\{lane="draft",warm="true"\} 1/);
    expect(text).toMatch(/clickvid_queue_wait_seconds_count\{lane="draft"\} 1/);
  });

  it('batches a burst of drafts into shared session.runs, each metered its share', async () => {
    // Rows not capped by their measured cost: on a loaded machine one draft may already fill a unit's budget.
    const { w, q } = await worker({ engine: { rowsByCost: false } });
    // Queued while paused, then released at once: a backlog, as a burst of submissions makes.
    await q.draft.pause();
    // Summed over model versions: the series carries model_version too.
    const succeeded = async () =>
      Object.entries(await redis.hgetall(keys.metrics()))
        .filter(([f]) => /^clickvid_jobs_total\|.*quality="draft".*status="succeeded".*\|value$/.test(f))
        .reduce((n, [, v]) => n + Number(v), 0);
    const before = await succeeded();
    const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => submit(q, 'a blue square moving left', 'draft', { seed: 100 + i })));
    await q.draft.resume();
    const jobs = await Promise.all(ids.map((id) => settled(id)));
    expect(jobs.every((j) => j.status === 'succeeded')).toBe(true);
    const sizes = jobs.map((j) => j.usage!.batch_size);
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(Math.min(config.batching.draft.maxBatch, registry.tier('draft').max_batch));
    // Jobs of one batch share its seconds evenly.
    const bySize = jobs.filter((j) => j.usage!.batch_size === Math.max(...sizes));
    expect(new Set(bySize.map((j) => j.usage!.breakdown.inference_s)).size).toBeLessThanOrEqual(bySize.length / Math.max(...sizes));
    const text = await w.metrics.registry.metrics();
    const batches = Number(/clickvid_batch_size_count\{lane="draft",variant="[^"]+",model_version="[^"]+"\} (\d+)/.exec(text)![1]);
    expect(batches).toBeLessThan(10);
    // Every render counts in the cluster-wide view the API serves, written a batch at a time.
    await expect.poll(async () => (await succeeded()) - before).toBe(10);
  });

  it('renders the final lane (standard and final tiers) at their sizes', async () => {
    const { q } = await worker();
    const ids = [await submit(q, 'a green triangle', 'standard'), await submit(q, 'a green triangle', 'final')];
    for (const id of ids) {
      const job = await settled(id, 60_000);
      expect(job.status).toBe('succeeded');
      const rec = (await new AssetStore(redis, config.retention.filesS.final).get(job.assets!.video))!;
      const probe = await ffprobe(readFileSync(join(config.storage.dir, rec.storage_key)));
      expect(probe).toMatchObject({ codec: 'h264', width: job.params.width, height: job.params.height, frames: job.params.frames });
    }
  });

  it('a prompt the model cannot read fails at once with prompt_not_understood (no retries)', async () => {
    const { q } = await worker();
    const id = await submit(q, 'zzqx vvbn');
    const job = await settled(id);
    expect(job).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'prompt_not_understood', retryable: false } });
    // The record fails first; BullMQ moves its job to failed right after the processor throws.
    await expect.poll(async () => (await q.draft.getJob(id))?.getState(), { timeout: 5000 }).toBe('failed');
    expect((await q.draft.getJob(id))?.attemptsMade).toBe(1);
  });

  it('records a job BullMQ fails without running it (stalled more often than allowed)', async () => {
    const { q, prefix } = await worker();
    await q.draft.pause();
    const id = await submit(q, 'a red circle');
    // What moveStalledJobsToWait leaves on a job whose workers died mid-job too often.
    await redis.hset(`${prefix}:${QUEUE_NAMES.draft}:${id}`, 'defa', 'job stalled more than allowable limit');
    await q.draft.resume();
    const job = await settled(id);
    expect(job).toMatchObject({ status: 'failed', error: { code: 'internal_error', retryable: true }, assets: null });
  });

  it('skips a job canceled before it ran', async () => {
    const { q } = await worker();
    const id = await submit(q, 'a red circle', 'draft', { status: 'canceled' });
    await expect.poll(async () => (await q.draft.getJob(id))?.getState(), { timeout: 5000 }).toBe('completed');
    const job = (await store.get(id))!.job;
    expect(job).toMatchObject({ status: 'canceled', assets: null, usage: null });
  });

  it('retries a storage hiccup with backoff and succeeds on the next attempt', async () => {
    const real = createStorage(config);
    let puts = 0;
    const flaky: Storage = {
      ...real, driver: real.driver, get: real.get.bind(real), exists: real.exists.bind(real), delete: real.delete.bind(real),
      signedUrl: real.signedUrl.bind(real),
      put: async (key, body, opts) => {
        if (++puts <= 2) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        return real.put(key, body, opts);
      },
    };
    const { q } = await worker({ storage: flaky });
    const id = await submit(q, 'a red circle');
    const job = await settled(id);
    expect(job).toMatchObject({ status: 'succeeded', attempts: 2 });
  });

  it('fails with storage_failed after the last attempt when storage stays down', async () => {
    const real = createStorage(config);
    const down: Storage = { ...real, driver: real.driver, get: real.get, exists: real.exists, delete: real.delete, signedUrl: real.signedUrl,
      put: async () => { throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }); } };
    const { q } = await worker({ storage: down });
    const id = await submit(q, 'a red circle', 'draft', { attempts: 2 });
    const job = await settled(id);
    expect(job).toMatchObject({ status: 'failed', attempts: 2, error: { code: 'storage_failed', retryable: true } });
  });

  describe('a model file that does not match its manifest', () => {
    let badDir: string;
    let bad: ModelRegistry;
    beforeAll(() => {
      badDir = mkdtempSync(join(tmpdir(), 'clickvid-badmodels-'));
      const src = join(model.dir, model.name);
      const dst = join(badDir, model.name);
      mkdirSync(dst);
      copyFileSync(join(src, 'manifest.json'), join(dst, 'manifest.json'));
      for (const v of Object.values(registry.manifest.variants)) {
        const b = readFileSync(join(src, v.file));
        b[b.length >> 1]! ^= 0x01;
        writeFileSync(join(dst, v.file), b);
      }
      bad = ModelRegistry.load(badDir, model.name);
    });
    afterAll(() => rmSync(badDir, { recursive: true, force: true }));

    it('stops the worker at start-up', async () => {
      await expect(
        startWorker({ config, registry: bad, storage: createStorage(config), logger: createLogger(config, 't'), prefix: 'test-bad' }),
      ).rejects.toMatchObject({ code: 'model_unavailable', retryable: false });
    });

    it('fails a job with model_unavailable at once, not retried', async () => {
      const { q } = await worker({ registry: bad, warm: false });
      const id = await submit(q, 'a red circle');
      const job = await settled(id);
      expect(job).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'model_unavailable', retryable: false } });
    });
  });

  it('an execution provider this onnxruntime cannot load stops the worker at start-up, naming it', async () => {
    for (const providers of ['cuda,cpu', 'nosuchgpu']) {
      const c = { ...config, executionProviders: providers.split(',') };
      const err = await startWorker({ config: c, registry, storage: createStorage(c), logger: createLogger(c, 't'), prefix: 'test-ep' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'model_unavailable', retryable: false });
      expect((err as Error).message).toContain(providers.split(',')[0]);
    }
  });

  it('answers a repeat from the output cache at cost 0', async () => {
    const { q } = await worker({ cache: true });
    const first = await settled(await submit(q, 'a green circle moving up', 'draft', { seed: 555 }));
    expect(first.cache_hit).toBe(false);
    const again = await settled(await submit(q, 'a green circle moving up', 'draft', { seed: 555 }));
    expect(again).toMatchObject({ status: 'succeeded', cache_hit: true, usage: { gpu_seconds: 0, credits: 0 } });
    expect(again.assets!.video).not.toBe(first.assets!.video);
  });

  it('drains on close(): jobs in flight finish, none is left running', async () => {
    const { w, q } = await worker();
    const ids = await Promise.all(Array.from({ length: 4 }, (_, i) => submit(q, 'a red square', 'draft', { seed: 900 + i })));
    // Wait until the worker has taken them, then close while they are in flight.
    const end = Date.now() + 10_000;
    while ((await Promise.all(ids.map((id) => store.get(id)))).some((s) => s!.job.status === 'queued') && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 5));
    }
    await w.close();
    const jobs = await Promise.all(ids.map((id) => store.get(id)));
    expect(jobs.map((s) => s!.job.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(await redis.zscore(keys.workers(), w.id)).toBeNull();
  });

  it('past the drain deadline, puts the jobs in flight back in their queue; another worker finishes each once', async () => {
    const { w, q, prefix } = await worker();
    const ids = await Promise.all(Array.from({ length: 4 }, (_, i) => submit(q, 'a blue circle', 'draft', { seed: 950 + i })));
    const end = Date.now() + 10_000;
    while ((await Promise.all(ids.map((id) => store.get(id)))).some((s) => s!.job.status === 'queued') && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const { requeued } = await w.close({ drainTimeoutMs: 0 });
    expect(requeued).toBeGreaterThan(0);
    await worker({ prefix });
    const jobs = await Promise.all(ids.map((id) => settled(id)));
    expect(jobs.map((j) => j.status)).toEqual(ids.map(() => 'succeeded'));
    const ledger = await new UsageLedger(redis).report(TEAM, utcDay(), utcDay());
    expect(ledger.length).toBeGreaterThan(0);
  });

  it('the reconciler queues a record that has no BullMQ job, and fails one whose BullMQ job failed', async () => {
    const ORPHAN_TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    // A queue no worker consumes yet: the test plays the part of a worker that died.
    const prefix = `test-${randomBytes(4).toString('hex')}`;
    const q = { draft: new Queue<RenderJobData>(QUEUE_NAMES.draft, { connection: redis, prefix }), final: new Queue<RenderJobData>(QUEUE_NAMES.final, { connection: redis, prefix }) };
    queues.push(q.draft, q.final);
    const lost = await submit(q, 'a red circle', 'draft', { seed: 977, attempts: 1 });
    // A BullMQ job failed without our code recording it (the stall limit, its worker gone), its record still queued.
    const taker = new Worker<RenderJobData>(QUEUE_NAMES.draft, null, { connection: createRedis(bed.redisUrl), prefix });
    const token = 'dead-worker';
    const taken = (await taker.getNextJob(token))!;
    expect(taken.id).toBe(lost);
    await taken.moveToFailed(new Error('job stalled more than allowable limit'), token, false);
    await taker.close();
    // A record accepted whose queue entry never made it (the server died between the two).
    const orphan = newId('job');
    const params = registry.resolveParams('draft', { seed: 978 }, () => 978);
    await lifecycle.accept({
      job: {
        id: orphan, object: 'job', status: 'queued', quality: 'draft', prompt: 'a red circle', params, model: registry.modelRef('draft'),
        progress: 0, queue_position: null, estimate: { gpu_seconds: 0.1, credits: 1 }, usage: null, assets: null, error: null, warnings: [],
        metadata: {}, parent_job_id: null, webhook_url: null, cache_hit: false, degraded: false, attempts: 0, created_at: new Date().toISOString(),
        started_at: null, finished_at: null, expires_at: null,
      },
      team: TEAM, lane: 'draft', reserveS: 0.1, quotaS: undefined, trace: ORPHAN_TRACE,
    });
    const report = await reconcileOnce({ redis, lifecycle, queues: { draft: q.draft }, minAgeMs: 0 });
    expect(report).toEqual({ requeued: 1, failed: 1 });
    // Queued again with the submit's trace context, so the job stays one trace.
    expect((await q.draft.getJob(orphan))!.data).toEqual({ jobId: orphan, team: TEAM, trace: ORPHAN_TRACE });
    expect((await store.get(lost))!.job).toMatchObject({ status: 'failed', error: { code: 'internal_error' } });
    await worker({ prefix });
    expect(await settled(orphan)).toMatchObject({ status: 'succeeded' });
    // Repairs are idempotent: a second pass finds nothing.
    expect(await reconcileOnce({ redis, lifecycle, queues: { draft: q.draft }, minAgeMs: 0 })).toEqual({ requeued: 0, failed: 0 });
  });
});
