import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from '@clickvid/contracts';
import {
  AssetStore, JobStore, LocalStorage, ModelRegistry, UsageLedger, createLogger, createRedis, newId, type Redis, type RenderJobData,
} from '@clickvid/core';
import type { Job as BullJob } from 'bullmq';
import { UnrecoverableError } from 'bullmq';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Batcher } from './batcher.js';
import { Encoder } from './encoder.js';
import { InferenceEngine } from './engine.js';
import { testModel, testRedis, type TestRedis } from './internal/testing.testkit.js';
import { WorkerMetrics } from './metrics.js';
import { createProcessor, type RenderInput } from './processor.js';

const model = testModel();

/** The processor on its own (no BullMQ worker), so a test can act between its steps. */
describe('processor', () => {
  let server: TestRedis;
  let redis: Redis;
  let dir: string;
  let registry: ModelRegistry;
  let store: JobStore;
  let engine: InferenceEngine;
  let encoder: Encoder;

  beforeAll(async () => {
    server = await testRedis(inject('redisUrl' as never) as string | undefined);
    redis = createRedis(server.url);
    dir = mkdtempSync(join(tmpdir(), 'clickvid-proc-'));
    registry = ModelRegistry.load(model.dir, model.name);
    store = new JobStore(redis, 3600);
    engine = new InferenceEngine({ resolveVariant: (n) => registry.variant(n) });
    encoder = new Encoder({ ffmpegPath: '/usr/bin/ffmpeg' });
  });
  afterAll(async () => {
    await encoder.close();
    await engine.close();
    redis.disconnect();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function deps(onBatch?: (inputs: RenderInput[]) => Promise<void>) {
    const batcher = new Batcher<RenderInput, Uint8Array>({
      lanes: { draft: { maxBatch: 4, windowMs: 100 }, final: { maxBatch: 2, windowMs: 1000 } },
      run: async (_k, inputs) => {
        const res = await engine.run(inputs[0]!.variant, inputs);
        await onBatch?.(inputs);
        return { outputs: res.videos, seconds: res.seconds };
      },
    });
    return {
      config: { creditsPerGpuSecond: 10 }, registry, store, batcher, encoder,
      assets: new AssetStore(redis, 3600), ledger: new UsageLedger(redis), storage: new LocalStorage(dir, 'http://x', 'secret-secret-secret'),
      metrics: new WorkerMetrics(), logger: createLogger({ logLevel: 'silent' }, 't'), cache: null, webhooks: null,
    };
  }

  async function create(prompt: string): Promise<{ id: string; bull: BullJob<RenderJobData> }> {
    const id = newId('job');
    const job: Job = {
      id, object: 'job', status: 'queued', quality: 'draft', prompt, params: registry.resolveParams('draft', { seed: 3 }, () => 3),
      model: registry.modelRef('draft'), progress: 0, queue_position: null, estimate: { gpu_seconds: 0, credits: 0 }, usage: null,
      assets: null, error: null, warnings: [], metadata: {}, parent_job_id: null, webhook_url: null, cache_hit: false, degraded: false,
      attempts: 0, created_at: new Date().toISOString(), started_at: null, finished_at: null,
    };
    await store.create({ job, team: 't', lane: 'draft' });
    // The fields of a BullMQ job the processor reads.
    const bull = { id, data: { jobId: id, team: 't' }, attemptsMade: 0, opts: { attempts: 3 }, timestamp: Date.now() } as unknown as BullJob<RenderJobData>;
    return { id, bull };
  }

  it('a job canceled while its batch runs stops at the next step: no encode, no assets, no bill', async () => {
    const { id, bull } = await create('a red circle');
    const d = deps(async () => {
      await store.cancel(id);
    });
    const out = await createProcessor('draft', d)(bull);
    expect(out).toEqual({ status: 'skipped', reason: 'canceled' });
    const job = (await store.get(id))!.job;
    expect(job).toMatchObject({ status: 'canceled', assets: null, usage: null });
    expect(await d.metrics.registry.getSingleMetricAsString('clickvid_encode_seconds')).not.toMatch(/_count\{[^}]*\} [1-9]/);
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
