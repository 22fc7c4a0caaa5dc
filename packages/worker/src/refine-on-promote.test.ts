import { createHash, randomBytes } from 'node:crypto';
import { join, posix } from 'node:path';
import type { Job, Quality } from '@clickvid/contracts';
import {
  AssetStore, ATTEMPT_FILES, contentKey, modelDigest, createLogger, createStorage, JobLifecycle, JobStore, keys, laneFor,
  ModelRegistry, newId, QUEUE_NAMES, RENDER_JOB_OPTIONS, REPO_ROOT, type Config, type Redis, type RenderJobData, type Storage,
} from '@clickvid/core';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testModel, workerBed, type WorkerBed } from './internal/testing.testkit.js';
import { startWorker, type RunningWorker } from './worker.js';

const TEAM = 'team_refine';
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * Refine-on-promote through the real worker (Redis, BullMQ, onnxruntime, ffmpeg, local storage),
 * for both forms: the single graph (2.0.0, whose latent is its seed noise vector) and a pipeline
 * (the random-weight fixture, whose final refines the draft's denoised latents). A promotion is
 * written as the server writes it: the child names its parent, and `cv:promote:{parent}:{quality}`
 * names the child. What a job started from is read back from its output-cache key, which the
 * worker makes from the sha256 of the latents it started from.
 */
describe.each([
  { form: 'graph', models: testModel().dir, name: testModel().name },
  { form: 'pipeline', models: join(REPO_ROOT, 'models'), name: 'pipeline-fixture' },
  { form: 'pipeline', models: join(REPO_ROOT, 'models'), name: 'clickvid-shapes-3.0' },
])('refine on promote, $form model ($name)', ({ models, name }) => {
  let bed: WorkerBed;
  let redis: Redis;
  let config: Config;
  let registry: ModelRegistry;
  let store: JobStore;
  let assets: AssetStore;
  let lifecycle: JobLifecycle;
  let storage: Storage;
  let worker: RunningWorker;
  let q: Record<'draft' | 'final', Queue<RenderJobData>>;

  beforeAll(async () => {
    bed = await workerBed({ dir: models, name }, inject('redisUrl' as never) as string | undefined);
    ({ redis, config, registry, store, lifecycle } = bed);
    assets = new AssetStore(redis, config.retention.filesS.final);
    storage = createStorage(config);
    const prefix = `refine-${randomBytes(4).toString('hex')}`;
    worker = await startWorker({ config, registry, storage, logger: createLogger(config, 'refine-test'), prefix, cache: true });
    q = {
      draft: new Queue<RenderJobData>(QUEUE_NAMES.draft, { connection: redis, prefix }),
      final: new Queue<RenderJobData>(QUEUE_NAMES.final, { connection: redis, prefix }),
    };
  }, 120_000);

  afterAll(async () => {
    await worker?.close();
    await q?.draft.close();
    await q?.final.close();
    await bed?.close();
  });

  /**
   * A job as the server writes it; `promotedFrom` also writes the promotion's (job, quality) record.
   * `held`: the record only; its queue entry is added by the returned function.
   */
  async function submit(prompt: string, quality: Quality, seed: number, link: { promotedFrom?: string; iteratedFrom?: string } = {}): Promise<string> {
    const { id, queue } = await write(prompt, quality, seed, link);
    await queue();
    return id;
  }

  async function write(prompt: string, quality: Quality, seed: number, link: { promotedFrom?: string; iteratedFrom?: string } = {}) {
    const id = newId('job');
    const parent = link.promotedFrom ?? link.iteratedFrom ?? null;
    const job: Job = {
      id, object: 'job', status: 'queued', quality, prompt, params: registry.resolveParams(quality, { seed }, () => seed), model: registry.modelRef(quality),
      progress: 0, queue_position: null, estimate: { gpu_seconds: 0.1, credits: 1 }, usage: null, assets: null, error: null, warnings: [],
      metadata: {}, parent_job_id: parent, webhook_url: null, cache_hit: false, degraded: false, attempts: 0,
      created_at: new Date().toISOString(), started_at: null, finished_at: null, expires_at: null,
    };
    if (link.promotedFrom) await redis.set(keys.promotion(link.promotedFrom, quality), id);
    await lifecycle.accept({ job, team: TEAM, lane: laneFor(quality), reserveS: 0, quotaS: undefined });
    return { id, queue: () => q[laneFor(quality)].add('render', { jobId: id, team: TEAM }, { ...RENDER_JOB_OPTIONS, jobId: id }) };
  }

  async function settled(id: string): Promise<Job> {
    const end = Date.now() + 60_000;
    for (;;) {
      const s = await store.get(id);
      if (s && ['succeeded', 'failed', 'canceled'].includes(s.job.status)) return s.job;
      if (Date.now() > end) throw new Error(`job ${id} still ${s?.job.status}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The latents stored beside a job's video (for a cached job: beside the files it points at). */
  async function storedLatents(job: Job): Promise<Buffer> {
    const video = (await assets.get(job.assets!.video))!;
    const chunks: Buffer[] = [];
    for await (const c of await storage.get(posix.join(posix.dirname(video.storage_key), ATTEMPT_FILES[2]))) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  /** Whether the output cache holds the job's pixels under the key made with these starting latents. */
  const cachedUnder = async (job: Job, start?: string) =>
    (await redis.exists(keys.outputCache(contentKey(TEAM, modelDigest(registry), job.model, registry.encodePrompt(job.prompt).normalized, job.params, start)))) === 1;

  it('a final promoted from a draft still rendering waits for it and starts from its stored latents', async () => {
    const prompt = 'a red circle moving right';
    // The draft is written but not yet in its queue: the promotion starts, finds it queued and waits.
    const held = await write(prompt, 'draft', 11);
    const finalId = await submit(prompt, 'final', 11, { promotedFrom: held.id });
    while ((await store.get(finalId))?.job.status !== 'running') await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 300));
    expect((await store.get(finalId))?.job.status).toBe('running');
    await held.queue();
    const [draft, final] = await Promise.all([settled(held.id), settled(finalId)]);
    expect([draft.status, final.status]).toEqual(['succeeded', 'succeeded']);
    const latents = await storedLatents(draft);
    if (registry.form === 'graph') {
      // 2.0.0's only latent is the seed's noise vector.
      const noise = registry.noise(11);
      expect(latents.equals(Buffer.from(noise.buffer, noise.byteOffset, noise.byteLength))).toBe(true);
    } else {
      expect(latents.length).toBe(4 * registry.pipeline.tiers.draft.latentShape!.reduce((a, b) => a * b, 1));
    }
    // The final's starting latents hash to the draft's: its cache key holds that hash, not "from the seed".
    expect(await cachedUnder(final, sha256(latents))).toBe(true);
    expect(await cachedUnder(final)).toBe(false);
    // A final keeps no latents (nothing is promoted from it).
    const finalVideo = (await assets.get(final.assets!.video))!;
    expect(await storage.exists(posix.join(posix.dirname(finalVideo.storage_key), ATTEMPT_FILES[2]))).toBe(false);
  });

  it('a draft served from the output cache passes on the latents of the job that rendered it', async () => {
    const prompt = 'two blue squares bouncing';
    const first = await settled(await submit(prompt, 'draft', 12));
    const again = await settled(await submit(prompt, 'draft', 12));
    expect(again.cache_hit).toBe(true);
    const final = await settled(await submit(prompt, 'final', 12, { promotedFrom: again.id }));
    expect(final.status).toBe('succeeded');
    expect(await cachedUnder(final, sha256(await storedLatents(first)))).toBe(true);
  });

  it('an iteration with from_job is not a promotion: it starts from its seed', async () => {
    const prompt = 'a green triangle spinning';
    const draft = await settled(await submit(prompt, 'draft', 13));
    const final = await settled(await submit(prompt, 'final', 13, { iteratedFrom: draft.id }));
    expect(final.status).toBe('succeeded');
    expect(await cachedUnder(final)).toBe(true);
  });
});
