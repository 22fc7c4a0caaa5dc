import { Job, ModelList } from '@clickvid/contracts';
import { contentKey, modelDigest } from '@clickvid/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from './internal/app.testkit.js';

let t: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  t = await testApp({ CLICKVID_MODEL: 'pipeline-fixture' });
});
afterAll(async () => t.close());

const post = (url: string, body: object) => t.app.inject({ method: 'POST', url, headers: t.auth(t.keyA), payload: body });

/** The API serving a pipeline-form model (models/pipeline-fixture): tiers, vocabulary and estimates from its manifest. */
describe('a pipeline-form model through the API', () => {
  it('GET /v1/models lists a variant per precision and size, the tiers and the tokenizer\'s vocabulary', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/models', headers: t.auth(t.keyA) });
    const [m] = ModelList.parse(res.json()).data;
    expect(m).toMatchObject({ id: 'pipeline-fixture', aspect_ratios: ['1:1'] });
    expect(m!.variants.map((v) => v.name)).toEqual(['int8-64', 'fp32-96', 'fp32-128']);
    expect(m!.tiers.map((x) => [x.quality, x.variant, x.width, x.fps])).toEqual([
      ['draft', 'int8-64', 64, 8],
      ['standard', 'fp32-96', 96, 8],
      ['final', 'fp32-128', 128, 12],
    ]);
    expect(m!.vocabulary).toContain('triangle');
    expect(m!.tiers.every((x) => x.estimate_gpu_seconds > 0)).toBe(true);
  });

  it('fills in the tier and snaps frames to the latent rule (8k+1); refuses more than the tier renders', async () => {
    const draft = Job.parse((await post('/v1/generate', { prompt: 'a red circle moving left', duration_s: 2 })).json());
    expect(draft).toMatchObject({ status: 'queued', model: { id: 'pipeline-fixture', variant: 'int8-64' }, params: { frames: 17, width: 64, fps: 8 } });
    const tooLong = await post('/v1/generate', { prompt: 'a red circle moving left', duration_s: 2, fps: 24 });
    expect(tooLong.statusCode).toBe(422);
    expect(tooLong.json()).toMatchObject({ error: { code: 'unsupported_parameter', param: 'duration_s' } });
  });

  it('a promotion is never answered from the cache entry of a final made from the seed', async () => {
    const prompt = 'a blue square moving up';
    const draft = Job.parse((await post('/v1/generate', { prompt, seed: 3 })).json());
    // A direct final of the same prompt and seed, as if rendered before: its files and its cache entry.
    const params = t.deps.registry.resolveParams('final', { duration_s: draft.params.duration_s, seed: 3 }, () => 3);
    const key = contentKey('alpha', modelDigest(t.deps.registry), t.deps.registry.modelRef('final'), t.deps.registry.encodePrompt(prompt).normalized, params);
    const file = { content_type: 'video/mp4', bytes: 1, width: 128, height: 128, frames: params.frames, duration_s: params.duration_s, sha256: 'x' };
    await t.deps.storage.put('jobs/direct/a/video.mp4', Buffer.from('v'), { contentType: 'video/mp4' });
    await t.deps.storage.put('jobs/direct/a/poster.png', Buffer.from('p'), { contentType: 'image/png' });
    await t.deps.cache.put(key, {
      job_id: 'job_direct', video: { ...file, kind: 'video', storage_key: 'jobs/direct/a/video.mp4' },
      poster: { ...file, kind: 'poster', content_type: 'image/png', frames: null, duration_s: null, storage_key: 'jobs/direct/a/poster.png' },
    });
    const direct = Job.parse((await post('/v1/generate', { prompt, seed: 3, quality: 'final', duration_s: draft.params.duration_s })).json());
    expect(direct.cache_hit).toBe(true);
    // The promotion starts from the draft's latents (the worker hashes them into its key): it is rendered.
    const promoted = Job.parse((await post(`/v1/jobs/${draft.id}/promote`, { quality: 'final' })).json());
    expect(promoted).toMatchObject({ status: 'queued', cache_hit: false, parent_job_id: draft.id, params: { seed: 3, frames: params.frames } });
  });
});
