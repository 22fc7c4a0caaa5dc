import type { Job } from '@clickvid/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisHandle } from '../../../test/harness.js';
import { newId } from './ids.js';
import { JobStore } from './job-store.js';
import { createRedis, type Redis } from './redis.js';

let rh: RedisHandle;
let redis: Redis;
let store: JobStore;

beforeAll(async () => {
  rh = await startRedis();
  redis = createRedis(rh.url);
  store = new JobStore(redis, 3600);
});
afterAll(async () => {
  redis.disconnect();
  await rh.stop();
});

function job(over: Partial<Job> = {}): Job {
  return {
    id: newId('job'), object: 'job', status: 'queued', quality: 'draft', prompt: 'a red circle', progress: 0,
    params: { duration_s: 2, fps: 8, frames: 16, width: 128, height: 128, aspect_ratio: '1:1', seed: 7 },
    model: { id: 'm', version: '1', variant: 'int8-128', sha256: 'x'.repeat(64) },
    queue_position: null, estimate: { gpu_seconds: 0.01, credits: 0.1 }, usage: null, assets: null, error: null,
    warnings: [], metadata: {}, parent_job_id: null, webhook_url: null, cache_hit: false, degraded: false, attempts: 0,
    created_at: new Date().toISOString(), started_at: null, finished_at: null, ...over,
  };
}

describe('JobStore', () => {
  it('round-trips a job exactly', async () => {
    const j = job({ metadata: { campaign: 'spring' }, warnings: ['w'] });
    await store.create({ job: j, team: 't1', lane: 'draft' });
    expect((await store.get(j.id))?.job).toEqual(j);
    expect((await store.get(j.id))?.team).toBe('t1');
  });

  it('moves queued → running → succeeded, and never out of a terminal state', async () => {
    const j = job();
    await store.create({ job: j, team: 't1', lane: 'draft' });
    expect(await store.queuePosition('draft', j.id)).not.toBeNull();
    const running = await store.start(j.id, 1);
    expect(running?.job.status).toBe('running');
    expect(await store.queuePosition('draft', j.id)).toBeNull();
    const done = await store.succeed(j.id, { assets: { video: 'a', poster: 'b' }, usage: null });
    expect(done?.job.status).toBe('succeeded');
    expect(await store.cancel(j.id)).toBeNull();
    expect(await store.fail(j.id, { code: 'inference_failed', message: 'x' })).toBeNull();
    expect((await store.get(j.id))?.job.status).toBe('succeeded');
  });

  it('a canceled job cannot be started by a worker', async () => {
    const j = job();
    await store.create({ job: j, team: 't1', lane: 'final' });
    expect((await store.cancel(j.id))?.job.status).toBe('canceled');
    expect(await store.start(j.id, 1)).toBeNull();
    expect(await store.isCanceled(j.id)).toBe(true);
  });

  it('reports queue positions in submit order per lane', async () => {
    const a = job({ created_at: new Date(Date.now() + 10_000).toISOString() });
    const b = job({ created_at: new Date(Date.now() + 20_000).toISOString() });
    await store.create({ job: a, team: 't2', lane: 'draft' });
    await store.create({ job: b, team: 't2', lane: 'draft' });
    const pa = (await store.queuePosition('draft', a.id))!;
    expect(await store.queuePosition('draft', b.id)).toBe(pa + 1);
  });

  it('lists a team newest first with cursor pages and filters, and only that team', async () => {
    const base = Date.now() + 100_000;
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const j = job({ created_at: new Date(base + i).toISOString(), quality: i % 2 ? 'final' : 'draft', metadata: { campaign: i < 4 ? 'a' : 'b' } });
      ids.push(j.id);
      await store.create({ job: j, team: 'lister', lane: 'draft' });
    }
    await store.create({ job: job(), team: 'other', lane: 'draft' });
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const res = await store.list('lister', { limit: 3, cursor });
      seen.push(...res.jobs.map((s) => s.job.id));
      if (!res.nextCursor) break;
      cursor = res.nextCursor;
    }
    expect(seen).toEqual([...ids].reverse());
    const finals = await store.list('lister', { limit: 10, filter: (j) => j.quality === 'final' && j.metadata.campaign === 'a' });
    expect(finals.jobs.map((s) => s.job.id)).toEqual([ids[3], ids[1]]);
    expect(finals.nextCursor).toBeNull();
  });
});

describe('JobStore.list with jobs of the same millisecond', () => {
  it('pages through every job exactly once', async () => {
    const at = new Date().toISOString();
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) {
      const j = job({ created_at: at });
      ids.push(j.id);
      await store.create({ job: j, team: 'same-ms', lane: 'draft' });
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await store.list('same-ms', { limit: 2, cursor });
      seen.push(...res.jobs.map((s) => s.job.id));
      cursor = res.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });
});

describe('JobStore.progress', () => {
  it('sets progress of a running job, publishes it, and ignores others', async () => {
    const sub = createRedis(rh.url);
    const got: unknown[] = [];
    await sub.subscribe('cv:events:jobs');
    sub.on('message', (_c: string, m: string) => got.push(JSON.parse(m)));
    const j = job();
    await store.create({ job: j, team: 'prog', lane: 'draft' });
    expect(await store.progress(j.id, 0.5)).toBe(false); // queued: ignored
    expect((await store.get(j.id))?.job.progress).toBe(0);
    await store.start(j.id, 1);
    expect(await store.progress(j.id, 0.6)).toBe(true);
    expect((await store.get(j.id))?.job.progress).toBe(0.6);
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toContainEqual({ id: j.id, team: 'prog', status: 'running', progress: 0.6 });
    sub.disconnect();
  });

  it('says stop once a job has left running, and answers each of many steps taken in one turn', async () => {
    const jobs = Array.from({ length: 6 }, () => job());
    for (const j of jobs) {
      await store.create({ job: j, team: 'prog', lane: 'draft' });
      await store.start(j.id, 1);
    }
    await store.cancel(jobs[2]!.id);
    expect(await Promise.all(jobs.map((j) => store.progress(j.id, 0.85)))).toEqual(jobs.map((_, i) => i !== 2));
    expect((await store.get(jobs[2]!.id))?.job).toMatchObject({ status: 'canceled', progress: 0 });
    expect(await store.progress('job_missing', 0.5)).toBe(false);
  });
});
