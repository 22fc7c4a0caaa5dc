import type { Job } from '@clickvid/contracts';
import { describe, expect, it } from 'vitest';
import type { AssetRecord } from './assets.js';
import { newId } from './ids.js';
import { jobRedis, testJob } from './job.testkit.js';
import { keys } from './keys.js';
import type { JobLifecycle } from './lifecycle.js';
import { createRedis, fieldsOf } from './redis.js';
import { UsageLedger, utcDay } from './usage-ledger.js';

const t = jobRedis();
const job = testJob;

const accept = (j: Job, team = 't1', quotaS?: number) => t.lifecycle.accept({ job: j, team, lane: 'draft', reserveS: j.estimate.gpu_seconds, quotaS });

function asset(j: Job, kind: 'video' | 'poster', token: string): AssetRecord {
  return {
    id: newId('ast'), team: 't1', job_id: j.id, kind, storage_key: `jobs/${j.id}/${token}/${kind}`, content_type: 'x', bytes: 1,
    width: 1, height: 1, frames: null, duration_s: null, sha256: 'y', created_at: new Date().toISOString(),
  };
}

const usage = { gpu_seconds: 0.25, credits: 2.5, batch_size: 1, breakdown: { inference_s: 0.2, encode_s: 0.05 } };

async function succeed(at: NonNullable<Awaited<ReturnType<JobLifecycle['start']>>>, j: Job, cacheKey?: string) {
  return t.lifecycle.succeed(at, { assets: { video: asset(j, 'video', at.token), poster: asset(j, 'poster', at.token) }, usage, model: j.model, cacheHit: false, ...(cacheKey ? { cacheKey } : {}) });
}

const outboxLen = () => t.redis.xlen(keys.webhookOutbox());
const usageHash = (team: string) => t.redis.hgetall(keys.usage(team, utcDay()));

describe('JobLifecycle', () => {
  it('queued → running → succeeded, and never out of a terminal state', async () => {
    const j = job();
    await accept(j);
    expect(await t.store.queuePosition('draft', j.id)).not.toBeNull();
    const at = (await t.lifecycle.start(j.id, 1))!;
    expect(at.stored.job.status).toBe('running');
    expect(await t.store.queuePosition('draft', j.id)).toBeNull();
    expect((await succeed(at, j)).verdict).toBe('done');
    expect((await t.lifecycle.cancel(j.id)).verdict).toBe('refused');
    expect((await t.lifecycle.fail(j.id, { code: 'inference_failed', message: 'x' })).verdict).toBe('refused');
    expect((await t.store.get(j.id))?.job.status).toBe('succeeded');
    expect(await t.redis.zscore(keys.laneRunning('draft'), j.id)).toBeNull();
  });

  it('fencing: a superseded attempt can neither progress nor finish the job, and the winner learns the loser', async () => {
    const j = job();
    await accept(j);
    const first = (await t.lifecycle.start(j.id, 1))!;
    const second = (await t.lifecycle.start(j.id, 2))!; // a redelivery: the first lost its lock
    expect(await t.lifecycle.progress(j.id, first.token, 0.6)).toBe(false);
    expect(await t.lifecycle.progress(j.id, second.token, 0.6)).toBe(true);
    expect((await succeed(first, j)).verdict).toBe('refused');
    expect((await t.lifecycle.fail(j.id, { code: 'inference_failed', message: 'x' }, first.token)).verdict).toBe('refused');
    const won = await succeed(second, j);
    expect(won).toEqual({ verdict: 'done', losers: [first.token] });
    const rec = (await t.store.get(j.id))!.job;
    expect(rec.assets!.video).toBeTruthy();
    expect(JSON.parse((await t.redis.get(keys.asset(rec.assets!.video)))!).storage_key).toContain(second.token);
  });

  it('bills and counts a success under the model version that made it, not the one it was accepted with', async () => {
    const team = `t-${newId('req')}`;
    const j = job();
    await t.lifecycle.accept({ job: j, team, lane: 'draft', reserveS: 0.5, quotaS: undefined });
    const at = (await t.lifecycle.start(j.id, 1))!;
    const ran = { ...j.model, version: '2' };
    await t.lifecycle.succeed(at, { assets: { video: asset(j, 'video', at.token), poster: asset(j, 'poster', at.token) }, usage, model: ran, cacheHit: false });
    expect(Object.keys(await usageHash(team)).filter((f) => f.endsWith('jobs'))).toEqual(['draft@2\u001f\u001fjobs']);
    const rows = await new UsageLedger(t.redis).report(team, utcDay(), utcDay());
    expect(rows.map((r) => r.model_version)).toEqual(['2']);
    const metrics = Object.keys(await t.redis.hgetall(keys.metrics()));
    expect(metrics.some((f) => f.startsWith('clickvid_jobs_total|') && f.includes('model_version="2"'))).toBe(true);
    // A field written before versions were split reads with no version.
    await t.redis.hset(keys.usage(team, utcDay()), 'draft\u001fold\u001fjobs', '3');
    const again = await new UsageLedger(t.redis).report(team, utcDay(), utcDay());
    expect(again.find((r) => r.campaign === 'old')).toMatchObject({ quality: 'draft', model_version: null, jobs: 3 });
  });

  it('effects exactly once: a repeated success script bills, caches and queues the webhook once', async () => {
    const team = `t-${newId('req')}`;
    const j = job({ webhook_url: 'https://example.com/hook', metadata: { campaign: 'c1' } });
    await t.lifecycle.accept({ job: j, team, lane: 'draft', reserveS: 0.5, quotaS: undefined });
    expect(await usageHash(team)).toMatchObject({ reserved_us: '500000' });
    const at = (await t.lifecycle.start(j.id, 1))!;
    expect(await t.lifecycle.start(j.id, 1, at.token)).not.toBeNull(); // a resent start: same token, no new attempt
    const before = await outboxLen();
    const key = `ck-${j.id}`;
    expect((await succeed(at, j, key)).verdict).toBe('done');
    // ioredis resends a script whose reply was lost: the repeat changes nothing.
    expect((await succeed(at, j, key)).verdict).toBe('repeat');
    const h = await usageHash(team);
    expect(h).toMatchObject({ reserved_us: '0', total_gpu_us: '250000', 'draft@1\u001fc1\u001fjobs': '1', 'draft@1\u001fc1\u001fgpu_us': '250000', 'draft@1\u001fc1\u001fcredits_u': '2500000' });
    expect(await outboxLen()).toBe(before + 1);
    expect(await t.redis.exists(keys.outputCache(key))).toBe(1);
    const rows = await new UsageLedger(t.redis).report(team, utcDay(), utcDay());
    // Split by the version that made it (the ledger field carries it after the quality).
    expect(rows).toEqual([{ day: utcDay(), quality: 'draft', model_version: '1', campaign: 'c1', jobs: 1, gpu_seconds: 0.25, credits: 2.5 }]);
    // The outbox entry holds the event as it was when the job ended.
    const [[, flat]] = (await t.redis.xrevrange(keys.webhookOutbox(), '+', '-', 'COUNT', 1)) as [[string, string[]]];
    const entry = fieldsOf(flat);
    expect(entry).toMatchObject({ event: `evt_${j.id.slice(4)}_succeeded`, job: j.id, team, type: 'job.succeeded' });
    expect(JSON.parse(entry.payload!)).toMatchObject({ type: 'job.succeeded', data: { id: j.id, status: 'succeeded', usage } });
  });

  it('cancel releases the reservation once and queues one event; a failure does too', async () => {
    const team = `t-${newId('req')}`;
    const a = job({ webhook_url: 'https://example.com/a' });
    const b = job({ webhook_url: 'https://example.com/b' });
    await t.lifecycle.accept({ job: a, team, lane: 'draft', reserveS: 0.5, quotaS: undefined });
    await t.lifecycle.accept({ job: b, team, lane: 'draft', reserveS: 0.5, quotaS: undefined });
    expect((await usageHash(team)).reserved_us).toBe('1000000');
    const before = await outboxLen();
    expect((await t.lifecycle.cancel(a.id)).verdict).toBe('done');
    expect((await t.lifecycle.cancel(a.id)).verdict).toBe('repeat');
    const at = (await t.lifecycle.start(b.id, 1))!;
    expect((await t.lifecycle.fail(b.id, { code: 'inference_failed', message: 'x' }, at.token)).verdict).toBe('done');
    expect((await t.lifecycle.fail(b.id, { code: 'inference_failed', message: 'x' }, at.token)).verdict).toBe('repeat');
    expect(await usageHash(team)).toMatchObject({ reserved_us: '0' });
    expect((await usageHash(team)).total_gpu_us).toBeUndefined();
    expect(await outboxLen()).toBe(before + 2);
    expect(await t.lifecycle.start(a.id, 1)).toBeNull();
  });

  it('a requeued job runs again under a new attempt; the old one is fenced off', async () => {
    const j = job();
    await accept(j);
    const at = (await t.lifecycle.start(j.id, 1))!;
    expect(await t.lifecycle.requeue(j.id, at.token)).toBe(true);
    expect((await t.store.get(j.id))!.job.status).toBe('queued');
    expect(await t.store.queuePosition('draft', j.id)).not.toBeNull();
    const again = (await t.lifecycle.start(j.id, 2))!;
    expect(await t.lifecycle.progress(j.id, at.token, 0.5)).toBe(false);
    expect(await t.lifecycle.progress(j.id, again.token, 0.5)).toBe(true);
  });

  it('progress publishes for the running attempt and says stop once the job left running', async () => {
    const sub = createRedis(t.rh.url);
    const got: unknown[] = [];
    await sub.subscribe(keys.jobEvents());
    sub.on('message', (_c: string, m: string) => got.push(JSON.parse(m)));
    const j = job();
    await t.lifecycle.accept({ job: j, team: 'prog', lane: 'draft', reserveS: 0, quotaS: undefined });
    const at = (await t.lifecycle.start(j.id, 1))!;
    expect(await t.lifecycle.progress(j.id, at.token, 0.6)).toBe(true);
    await t.lifecycle.cancel(j.id);
    expect(await t.lifecycle.progress(j.id, at.token, 0.85)).toBe(false);
    expect(await t.lifecycle.progress('job_missing', at.token, 0.5)).toBe(false);
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toContainEqual(expect.objectContaining({ id: j.id, team: 'prog', status: 'running', progress: 0.6 }));
    expect(got).toContainEqual(expect.objectContaining({ id: j.id, team: 'prog', status: 'canceled', progress: 0.6 }));
    sub.disconnect();
  });

  it('quota: concurrent accepts never reserve past it; a repeated accept reserves once', async () => {
    const team = `t-${newId('req')}`;
    const jobs = Array.from({ length: 100 }, () => job());
    const out = await Promise.all(jobs.map((j) => accept(j, team, 2.2)));
    expect(out.filter((o) => o.ok)).toHaveLength(4); // 4 × 0.5 ≤ 2.2 < 5 × 0.5
    expect((await usageHash(team)).reserved_us).toBe('2000000');
    const first = jobs[out.findIndex((o) => o.ok)]!;
    expect((await accept(first, team, 2.2)).ok).toBe(true);
    expect((await usageHash(team)).reserved_us).toBe('2000000');
  });

  it('a hit on a file set the sweeper claimed is refused (stale), at accept and at a worker\'s success; a live one raises its expiry', async () => {
    const team = `t-${newId('req')}`;
    const src = job({ quality: 'draft' });
    await t.lifecycle.accept({ job: src, team, lane: 'draft', reserveS: 0, quotaS: undefined });
    const at = (await t.lifecycle.start(src.id, 1))!;
    const files = { video: { ...asset(src, 'video', at.token), storage_key: `draft/jobs/${src.id}/${at.token}/video.mp4` }, poster: { ...asset(src, 'poster', at.token), storage_key: `draft/jobs/${src.id}/${at.token}/poster.png` } };
    await t.lifecycle.succeed(at, { assets: files, usage, model: src.model, cacheHit: false });
    const set = `draft/jobs/${src.id}/${at.token}/`;
    const first = Number(await t.redis.zscore(keys.retentionFiles(), set));
    expect(first).toBeGreaterThan(Date.now());
    const hit = (id: string) => ({ video: { ...files.video, id: newId('ast'), job_id: id }, poster: { ...files.poster, id: newId('ast'), job_id: id } });

    // A live set: the hit is accepted and its expiry (a later one) becomes the set's.
    const b = job({ status: 'succeeded', cache_hit: true });
    const ok = await t.lifecycle.accept({ job: b, team, lane: 'draft', reserveS: 0, quotaS: undefined, cached: hit(b.id) });
    expect(ok).toMatchObject({ ok: true });
    expect(Number(await t.redis.zscore(keys.retentionFiles(), set))).toBeGreaterThanOrEqual(first);

    // Claimed by a sweeper (no longer in the live set): hits are refused, nothing is written.
    await t.redis.zrem(keys.retentionFiles(), set);
    const c = job({ status: 'succeeded', cache_hit: true });
    expect(await t.lifecycle.accept({ job: c, team, lane: 'draft', reserveS: 0, quotaS: undefined, cached: hit(c.id) })).toEqual({ ok: false, reason: 'stale' });
    expect(await t.redis.exists(keys.job(c.id))).toBe(0);
    const d = job();
    await accept(d, team);
    const atD = (await t.lifecycle.start(d.id, 1))!;
    expect((await t.lifecycle.succeed(atD, { assets: hit(d.id), usage, model: d.model, cacheHit: true })).verdict).toBe('stale');
    expect((await t.store.get(d.id))!.job.status).toBe('running');
    expect(await t.redis.zscore(keys.retentionFiles(), set)).toBeNull();
  });
});
