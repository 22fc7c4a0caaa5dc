import { ErrorBody, Job } from '@clickvid/contracts';
import {
  ATTEMPT_FILES, attemptKey, contentKey, modelDigest, keys, newId, RECORD_TTL_MARGIN_S, sweepOnce, utcDay, type AssetRecord,
} from '@clickvid/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from './internal/app.testkit.js';

// Drafts are kept 1 s here, so "expired" is real time passing, not a stub; the grace after it
// (CLICKVID_JOB_TTL_DAYS) is a day, during which an expired asset answers 410.
let t: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  t = await testApp({ CLICKVID_RETENTION_DRAFT: '1s', CLICKVID_JOB_TTL_DAYS: '1', CLICKVID_DAILY_GPU_SECONDS: '1000' });
});
afterAll(async () => t.close());

const PROMPT = 'a green square moving left on a white background';
const gen = async (body: object) => {
  const res = await t.app.inject({ method: 'POST', url: '/v1/generate', headers: t.auth(t.keyA), payload: body });
  expect(res.statusCode).toBe(202);
  return Job.parse(res.json());
};
const getJob = (id: string) => t.app.inject({ url: `/v1/jobs/${id}`, headers: t.auth(t.keyA) });
const getAsset = (id: string) => t.app.inject({ url: `/v1/assets/${id}`, headers: t.auth(t.keyA) });
const code = (res: { json(): unknown }) => ErrorBody.parse(res.json()).error.code;

/**
 * What a worker does with a queued job, minus inference: start an attempt, store its two files
 * under the tier's prefix, and succeed with them (registering the output-cache entry).
 */
async function render(job: Job): Promise<{ files: string[]; expiresMs: number }> {
  const { lifecycle, storage, registry } = t.deps;
  const at = (await lifecycle.start(job.id, 1))!;
  const now = new Date().toISOString();
  const rec = (i: 0 | 1): AssetRecord => ({
    id: newId('ast'), team: 'alpha', job_id: job.id, kind: i === 0 ? 'video' : 'poster', storage_key: attemptKey(job.quality, job.id, at.token, ATTEMPT_FILES[i]),
    content_type: i === 0 ? 'video/mp4' : 'image/png', bytes: 5, width: 128, height: 128, frames: null, duration_s: null, sha256: 'a'.repeat(64), created_at: now,
  });
  const [video, poster] = [rec(0), rec(1)];
  for (const a of [video, poster]) await storage.put(a.storage_key, Buffer.from('bytes'), { contentType: a.content_type });
  const key = contentKey('alpha', modelDigest(registry), job.model, registry.encodePrompt(job.prompt).normalized, job.params);
  const usage = { gpu_seconds: 0.1, credits: 1, batch_size: 1, breakdown: { inference_s: 0.05, encode_s: 0.05 } };
  expect((await lifecycle.succeed(at, { assets: { video, poster }, usage, model: job.model, cacheHit: false, cacheKey: key })).verdict).toBe('done');
  const stored = Job.parse(JSON.parse(JSON.stringify((await t.deps.store.get(job.id))!.job)));
  return { files: [video.storage_key, poster.storage_key], expiresMs: Date.parse(stored.expires_at!) };
}

const exists = (files: string[]) => Promise.all(files.map((f) => t.deps.storage.exists(f)));

describe('retention', () => {
  it('storage keys carry the tier; a succeeded job shows when its files expire', async () => {
    const job = await gen({ prompt: PROMPT, seed: 1 });
    expect(job.expires_at).toBeNull();
    const { files, expiresMs } = await render(job);
    expect(files.every((f) => f.startsWith(`draft/jobs/${job.id}/`))).toBe(true);
    const shown = Job.parse((await getJob(job.id)).json());
    expect(Date.parse(shown.expires_at!)).toBe(expiresMs);
    // The draft lifetime (1 s) from the end of the job (both read in the same turn of the success).
    expect(expiresMs - Date.parse(shown.finished_at!)).toBeGreaterThanOrEqual(1000);
    expect(expiresMs - Date.parse(shown.finished_at!)).toBeLessThan(1000 + 100);
  });

  it('a sweep deletes expired drafts but never a file a live job (a newer cache hit) still points at', async () => {
    const a = await gen({ prompt: PROMPT, seed: 2 });
    const ra = await render(a);
    const c = await gen({ prompt: PROMPT, seed: 3 }); // expires about when A does; nothing else points at it
    const rc = await render(c);
    // B: the same prompt and seed as A, submitted later: a cache hit on A's files.
    const b = await gen({ prompt: PROMPT, seed: 2 });
    expect(b).toMatchObject({ status: 'succeeded', cache_hit: true });
    const bExpires = Date.parse(b.expires_at!);
    expect(bExpires).toBeGreaterThan(ra.expiresMs);
    const set = ra.files[0]!.slice(0, ra.files[0]!.lastIndexOf('/') + 1);
    expect(Number(await t.deps.redis.zscore(keys.retentionFiles(), set))).toBe(bExpires);

    // At C's expiry (after A's own, before B's): C's files go, A's stay (B is live and points at them).
    expect(rc.expiresMs, 'B was accepted after C succeeded').toBeLessThan(bExpires);
    const first = await sweepOnce(t.deps.redis, t.deps.storage, { now: rc.expiresMs });
    expect(first.fileSets).toBeGreaterThanOrEqual(1); // C's, and any earlier test's
    expect(await exists(rc.files)).toEqual([false, false]);
    expect(await exists(ra.files)).toEqual([true, true]);

    // Once B has expired too, nothing live points at them: they go.
    await sweepOnce(t.deps.redis, t.deps.storage, { now: bExpires + 1 });
    expect(await exists(ra.files)).toEqual([false, false]);
    expect(await exists(rc.files)).toEqual([false, false]);
    // A hit on them now would be on files no longer kept: a new submit renders.
    const again = await gen({ prompt: PROMPT, seed: 2 });
    expect(again.status).toBe('queued');
  });

  it('an expired asset answers 410 asset_expired, on its metadata and on a URL signed before; the record goes after the grace', async () => {
    const job = await gen({ prompt: PROMPT, seed: 4 });
    const { files, expiresMs } = await render(job);
    const done = Job.parse((await getJob(job.id)).json());
    const meta = await getAsset(done.assets!.video);
    expect(meta.statusCode).toBe(200);
    const url = new URL(meta.json().url);
    expect((await t.app.inject({ url: url.pathname + url.search })).statusCode).toBe(200);

    // Real time passes the 1-s lifetime.
    while (Date.now() <= expiresMs) await new Promise((r) => setTimeout(r, expiresMs + 5 - Date.now()));
    const gone = await getAsset(done.assets!.video);
    expect(gone.statusCode).toBe(410);
    expect(code(gone)).toBe('asset_expired');
    const content = await t.app.inject({ url: url.pathname + url.search });
    expect(content.statusCode).toBe(410);
    expect(code(content)).toBe('asset_expired');

    await sweepOnce(t.deps.redis, t.deps.storage);
    expect(await exists(files)).toEqual([false, false]);
    expect((await getJob(job.id)).statusCode).toBe(200); // the record stays for the grace
    expect(code(await getAsset(done.assets!.poster))).toBe('asset_expired');

    // After the grace the sweeper drops the record, its asset records and its index entry.
    const later = expiresMs + 86_400_000 + 1;
    await sweepOnce(t.deps.redis, t.deps.storage, { now: later });
    expect((await getJob(job.id)).statusCode).toBe(404);
    expect((await getAsset(done.assets!.video)).statusCode).toBe(404);
    expect(await t.deps.redis.zscore(keys.teamJobs('alpha'), job.id)).toBeNull();
  });

  it('a record that never reached a terminal state gives its quota reservation back when it goes', async () => {
    const usageKey = keys.usage('alpha', utcDay());
    const before = Number((await t.deps.redis.hget(usageKey, 'reserved_us')) ?? 0);
    const job = await gen({ prompt: PROMPT, seed: 5 });
    const reserved = Number(await t.deps.redis.hget(usageKey, 'reserved_us')) - before;
    expect(reserved).toBeGreaterThan(0);
    // Its Redis TTL is a day past the sweeper's drop time: the sweeper gets there first and releases it.
    const drop = Number(await t.deps.redis.zscore(keys.retentionJobs(), `alpha ${job.id}`));
    const ttl = await t.deps.redis.ttl(keys.job(job.id));
    expect(ttl * 1000).toBeGreaterThan(drop - Date.now() + (RECORD_TTL_MARGIN_S - 60) * 1000);
    await sweepOnce(t.deps.redis, t.deps.storage, { now: drop + 1 });
    expect(await t.deps.redis.exists(keys.job(job.id))).toBe(0);
    expect(Number(await t.deps.redis.hget(usageKey, 'reserved_us')) - before).toBe(0);
    expect(await t.deps.redis.zscore(keys.laneQueued('draft'), job.id)).toBeNull();
  });
});
