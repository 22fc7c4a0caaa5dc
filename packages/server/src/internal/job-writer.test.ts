import { randomBytes } from 'node:crypto';
import type { Job } from '@clickvid/contracts';
import { CACHE_HIT_USAGE, keys, newId } from '@clickvid/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../errors.js';
import { testApp } from './app.testkit.js';
import { JobWriter, type NewJob } from './job-writer.js';

let t: Awaited<ReturnType<typeof testApp>>;
let writer: JobWriter;
beforeAll(async () => {
  t = await testApp();
  writer = new JobWriter(t.deps);
});
afterAll(async () => t.close());

function newJob(over: { id?: string; team?: string; contentKey?: string } = {}): NewJob {
  const job: Job = {
    id: over.id ?? newId('job'), object: 'job', status: 'queued', quality: 'draft', prompt: 'a red circle', progress: 0,
    params: { duration_s: 2, fps: 8, frames: 16, width: 128, height: 128, aspect_ratio: '1:1', seed: 7 },
    model: t.deps.registry.modelRef('draft'), queue_position: null, estimate: { gpu_seconds: 0.01, credits: 0.1 },
    usage: null, assets: null, error: null, warnings: [], metadata: {}, parent_job_id: null, webhook_url: null,
    cache_hit: false, degraded: false, attempts: 0, created_at: new Date().toISOString(), started_at: null, finished_at: null, expires_at: null,
  };
  return { job, team: over.team ?? 'alpha', lane: 'draft', contentKey: over.contentKey ?? randomBytes(32).toString('hex'), quotaS: undefined };
}

const commandCalls = async (cmd: string) =>
  Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(await t.deps.redis.info('commandstats'))?.[1] ?? 0);

/** Stored and queued: a record in `queued`, in the lane's index, with its BullMQ job. */
async function expectQueued(id: string) {
  expect((await t.deps.store.get(id))?.job.status).toBe('queued');
  expect(await t.deps.redis.zscore(keys.laneQueued('draft'), id)).not.toBeNull();
  expect(await t.deps.queues.draft.getJob(id)).toBeDefined();
}

/** Abandoned: the record failed, out of the lane's index, no BullMQ job. */
async function expectAbandoned(id: string) {
  expect((await t.deps.store.get(id))?.job).toMatchObject({ status: 'failed', error: { code: 'internal_error' } });
  expect(await t.deps.redis.zscore(keys.laneQueued('draft'), id)).toBeNull();
  expect(await t.deps.queues.draft.getJob(id)).toBeUndefined();
}

describe('JobWriter', () => {
  it('writes the jobs of one turn with one accept script each; each gets its record, queue entry and position', async () => {
    const jobs = Array.from({ length: 20 }, () => newJob());
    await writer.write(newJob()); // loads the script
    const calls = await commandCalls('evalsha');
    const written = await Promise.all(jobs.map((j) => writer.write(j)));
    // One accept script per job, plus BullMQ's own script per added job.
    expect(await commandCalls('evalsha')).toBeLessThanOrEqual(calls + 40);
    expect(written.map((j) => j.id)).toEqual(jobs.map((j) => j.job.id));
    const positions = written.map((j) => j.queue_position!);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(new Set(positions).size).toBe(20);
    for (const j of written) await expectQueued(j.id);
  });

  it('one job whose record cannot be written fails alone, and is not left queued', async () => {
    await t.deps.redis.set(keys.teamJobs('broken'), 'not a sorted set');
    const [a, bad, b] = [newJob(), newJob({ team: 'broken' }), newJob()];
    const outcomes = await Promise.allSettled([a, bad, b].map((j) => writer.write(j)));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason.message).toMatch(/WRONGTYPE/);
    await expectQueued(a.job.id);
    await expectQueued(b.job.id);
    await expectAbandoned(bad.job.id);
  });

  it('one job the queue refuses fails alone with service_unavailable', async () => {
    // BullMQ refuses integer custom ids, so addBulk throws for the whole group.
    const [a, bad, b] = [newJob(), newJob({ id: '42' }), newJob()];
    const outcomes = await Promise.allSettled([a, bad, b].map((j) => writer.write(j)));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const err = (outcomes[1] as PromiseRejectedResult).reason;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe('service_unavailable');
    await expectQueued(a.job.id);
    await expectQueued(b.job.id);
    await expectAbandoned(bad.job.id);
  });

  it('a cache hit in the group completes at once, with assets of its own; the rest are queued', async () => {
    const file = { content_type: 'video/mp4', bytes: 4, width: 128, height: 128, frames: 16, duration_s: 2, sha256: 'f'.repeat(64) };
    for (const k of ['cached/v.mp4', 'cached/p.png']) await t.deps.storage.put(k, Buffer.from('data'), { contentType: 'video/mp4' });
    const hit = newJob();
    await t.deps.cache.put(hit.contentKey!, {
      video: { ...file, kind: 'video', storage_key: 'cached/v.mp4' },
      poster: { ...file, kind: 'poster', content_type: 'image/png', storage_key: 'cached/p.png' },
      job_id: 'job_renderedbefore00',
    });
    const miss = newJob();
    const [done, queued] = await Promise.all([writer.write(hit), writer.write(miss)]);
    expect(done).toMatchObject({ status: 'succeeded', cache_hit: true, usage: CACHE_HIT_USAGE, queue_position: null });
    expect((await t.deps.store.get(hit.job.id))?.job.status).toBe('succeeded');
    expect((await t.deps.assets.get(done.assets!.video))?.team).toBe('alpha');
    expect(await t.deps.queues.draft.getJob(hit.job.id)).toBeUndefined();
    expect(queued.status).toBe('queued');
    await expectQueued(miss.job.id);
  });
});
