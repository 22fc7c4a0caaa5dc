import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from '@clickvid/contracts';
import {
  ATTEMPT_FILES, AssetStore, CostEstimator, JobLifecycle, JobStore, keys, LocalStorage, ModelRegistry, ModelVersions, createLogger, createRedis, newId, type Redis, type RenderJobData,
} from '@clickvid/core';
import type { Job as BullJob } from 'bullmq';
import { UnrecoverableError } from 'bullmq';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Encoder } from './encoder.js';
import { testModel, testRedis, type TestRedis } from './internal/testing.testkit.js';
import { WorkerMetrics } from './metrics.js';
import { createProcessor, parseEngineVariant } from './processor.js';
import { ScheduledEngine, type RenderRequest } from './scheduled-engine.js';

const model = testModel();

/** The processor on its own (no BullMQ worker), so a test can act between its steps. */
describe('processor', () => {
  let server: TestRedis;
  let redis: Redis;
  let dir: string;
  let registry: ModelRegistry;
  let store: JobStore;
  let lifecycle: JobLifecycle;
  let assets: AssetStore;
  let engine: ScheduledEngine;
  let encoder: Encoder;

  beforeAll(async () => {
    server = await testRedis(inject('redisUrl' as never) as string | undefined);
    redis = createRedis(server.url);
    dir = mkdtempSync(join(tmpdir(), 'clickvid-proc-'));
    registry = ModelRegistry.load(model.dir, model.name);
    store = new JobStore(redis);
    lifecycle = new JobLifecycle(redis, 3600);
    assets = new AssetStore(redis, 3600);
    // Engine names are `<variant>@<version>` (see engineVariant).
    engine = new ScheduledEngine({ resolveVariant: (n) => ({ ...registry.variant(parseEngineVariant(n).variant), name: n, msPerFrame: 5 }) });
    encoder = new Encoder({ ffmpegPath: '/usr/bin/ffmpeg' });
  });
  afterAll(async () => {
    await encoder.close();
    await engine.close();
    redis.disconnect();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The real engine; `afterRender` runs once a job's inference is done, before the processor goes on. */
  function deps(afterRender?: (req: RenderRequest) => Promise<void>) {
    const wrapped: Pick<ScheduledEngine, 'render' | 'renderPipeline'> = {
      renderPipeline: (req, control) => engine.renderPipeline(req, control),
      render: async (req, control) => {
        const share = await engine.render(req, control);
        await afterRender?.(req);
        return share;
      },
    };
    return {
      config: { creditsPerGpuSecond: 10 }, models: new ModelVersions(registry), lifecycle, engine: wrapped, encoder,
      storage: new LocalStorage(dir, 'http://x', 'secret-secret-secret'),
      metrics: new WorkerMetrics(), logger: createLogger({ logLevel: 'silent' }, 't'), cache: null,
    };
  }

  async function create(prompt: string, quality: 'draft' | 'final' = 'draft'): Promise<{ id: string; bull: BullJob<RenderJobData> }> {
    const id = newId('job');
    const job: Job = {
      id, object: 'job', status: 'queued', quality, prompt, params: registry.resolveParams(quality, { seed: 3 }, () => 3),
      model: registry.modelRef(quality), progress: 0, queue_position: null, estimate: { gpu_seconds: 0, credits: 0 }, usage: null,
      assets: null, error: null, warnings: [], metadata: {}, parent_job_id: null, webhook_url: null, cache_hit: false, degraded: false,
      attempts: 0, created_at: new Date().toISOString(), started_at: null, finished_at: null, expires_at: null,
    };
    await lifecycle.accept({ job, team: 't', lane: quality === 'draft' ? 'draft' : 'final', reserveS: 0, quotaS: undefined });
    // The fields of a BullMQ job the processor reads.
    const bull = { id, data: { jobId: id, team: 't' }, attemptsMade: 0, opts: { attempts: 3 }, timestamp: Date.now() } as unknown as BullJob<RenderJobData>;
    return { id, bull };
  }

  it('a final canceled while it renders leaves the engine at the next unit boundary, with progress per unit until then', async () => {
    const { id, bull } = await create('two red circles moving right on a blue background', 'final');
    const seen: number[] = [];
    let canceledAt = 0;
    const d = deps();
    d.engine = {
      renderPipeline: (req, control) => engine.renderPipeline(req, control),
      render: (req, control) =>
        engine.render(req, {
          ...control,
          onProgress: (f) => {
            seen.push(f);
            control?.onProgress?.(f);
            // Cancel once the first unit's progress reached Redis, as a user's cancel would land.
            if (seen.length === 1) void lifecycle.cancel(id).then(() => (canceledAt = seen.length));
          },
        }),
    };
    const out = await createProcessor('final', d)(bull);
    expect(out).toEqual({ status: 'skipped', reason: 'canceled' });
    expect((await store.get(id))!.job).toMatchObject({ status: 'canceled', assets: null, usage: null });
    // Stopped well before its end: the cancel is found by the next progress write, and the job leaves one unit later.
    const units = Math.ceil(registry.resolveParams('final', {}, () => 1).frames / 4);
    expect(canceledAt).toBeGreaterThan(0);
    expect(seen.length).toBeLessThanOrEqual(canceledAt + 3);
    expect(seen.length).toBeLessThan(units - 1);
  });

  it('a job canceled while its batch runs stops at the next step: no encode, no assets, no bill', async () => {
    const { id, bull } = await create('a red circle');
    const d = deps(async () => {
      await lifecycle.cancel(id);
    });
    const out = await createProcessor('draft', d)(bull);
    expect(out).toEqual({ status: 'skipped', reason: 'canceled' });
    const job = (await store.get(id))!.job;
    expect(job).toMatchObject({ status: 'canceled', assets: null, usage: null });
    expect(await d.metrics.registry.getSingleMetricAsString('clickvid_encode_seconds')).not.toMatch(/_count\{[^}]*\} [1-9]/);
  });

  it('a rendered job tells the estimator what it was metered, so the next estimate follows', async () => {
    const estimator = new CostEstimator(redis);
    await redis.del(keys.costCalibration());
    const { id, bull } = await create('a blue square');
    expect(await createProcessor('draft', { ...deps(), estimator })(bull)).toMatchObject({ status: 'succeeded' });
    const job = (await store.get(id))!.job;
    await estimator.refresh();
    const expected = job.usage!.gpu_seconds / registry.estimateSeconds('draft', job.params);
    expect(estimator.factor(job.model, 'draft')).toBeCloseTo(Math.min(20, Math.max(0.05, expected)), 3);
  });

  it('a job delivered twice (a lost lock) keeps the winner\'s files: one success, its assets readable', async () => {
    const { id, bull } = await create('a green triangle');
    const d = deps();
    // Forces the losing interleaving: the first delivery stores its files only once the second is
    // storing too (so both passed their last check), and the second stores only after the first
    // finished. Each gate gives up after 3 s, so an order the code prevents cannot hang the test.
    const real = d.storage;
    // A draft's attempt stores its video, poster and latents at once.
    const perAttempt = ATTEMPT_FILES.length;
    let puts = 0;
    let bothStoring!: () => void;
    const storing = new Promise<void>((r) => (bothStoring = r));
    let firstDone: Promise<unknown> = Promise.resolve();
    const within = (p: Promise<unknown>) => Promise.race([p, new Promise((r) => setTimeout(r, 3000))]);
    const storage = Object.assign(Object.create(real) as typeof real, {
      async put(key: string, body: Buffer, opts: { contentType: string }) {
        const n = ++puts;
        if (n === 2 * perAttempt) bothStoring();
        await within(n <= perAttempt ? storing : firstDone);
        return real.put(key, body, opts);
      },
    });
    const dd = { ...d, storage };
    const first = createProcessor('draft', dd)(bull);
    firstDone = first.catch(() => undefined);
    // Two deliveries of one BullMQ job, as a lock lost while its worker lives produces.
    const second = createProcessor('draft', dd)({ ...bull, attemptsMade: 1 } as BullJob<RenderJobData>);
    const outs = await Promise.all([first, second]);
    expect(outs.filter((o) => o.status === 'succeeded')).toHaveLength(1);
    const job = (await store.get(id))!.job;
    expect(job.status).toBe('succeeded');
    for (const assetId of [job.assets!.video, job.assets!.poster]) {
      const rec = (await assets.get(assetId))!;
      expect(await real.exists(rec.storage_key)).toBe(true);
    }
    // The loser lived: it counts as a false stall (a lost lock), and START counted one redelivery.
    expect(await d.metrics.registry.getSingleMetricAsString('clickvid_worker_false_stalls_total')).toMatch(/lane="draft"} 1$/m);
    expect(Number(await redis.hget(keys.metrics(), 'clickvid_redeliveries_total|lane="draft"|value'))).toBeGreaterThanOrEqual(1);
  });

  it('an unrecoverable failure fails the job now and throws UnrecoverableError; a retryable one on a non-final attempt leaves it running', async () => {
    const bad = await create('qqqq wwww');
    const err = await createProcessor('draft', deps())(bad.bull).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnrecoverableError);
    expect((await store.get(bad.id))!.job).toMatchObject({ status: 'failed', error: { code: 'prompt_not_understood' } });

    const flaky = await create('a blue square');
    const d = deps(async () => {
      throw Object.assign(new Error('device lost'), { code: 'ECONNRESET' });
    });
    const soft = await createProcessor('draft', d)(flaky.bull).catch((e: unknown) => e);
    expect(soft).not.toBeInstanceOf(UnrecoverableError);
    expect((soft as Error).message).toMatch(/^internal_error: device lost/);
    expect((await store.get(flaky.id))!.job.status).toBe('running');
    // The last attempt records the failure.
    const last = { ...flaky.bull, attemptsMade: 2 } as BullJob<RenderJobData>;
    await createProcessor('draft', d)(last).catch(() => undefined);
    expect((await store.get(flaky.id))!.job).toMatchObject({ status: 'failed', attempts: 3, error: { code: 'internal_error', retryable: true } });
  });
});
