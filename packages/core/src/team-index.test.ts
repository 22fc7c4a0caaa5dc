import type { Job } from '@clickvid/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisHandle } from '../../../test/harness.js';
import { newId } from './ids.js';
import { keys } from './keys.js';
import { JobLifecycle } from './lifecycle.js';
import { createRedis, type Redis } from './redis.js';
import { RECORD_TTL_MARGIN_S } from './retention.js';

// Drafts' files 7 days, finals' 20, then 3 days of grace: the longest record lives 23 days and a margin.
const RETENTION = { filesS: { draft: 7 * 86_400, standard: 7 * 86_400, final: 20 * 86_400 }, graceS: 3 * 86_400 };
const TTL_S = 23 * 86_400 + RECORD_TTL_MARGIN_S;
let rh: RedisHandle;
let redis: Redis;
let lifecycle: JobLifecycle;

beforeAll(async () => {
  rh = await startRedis();
  redis = createRedis(rh.url);
  lifecycle = new JobLifecycle(redis, RETENTION);
});
afterAll(async () => {
  redis.disconnect();
  await rh.stop();
});

function job(id: string): Job {
  return {
    id, object: 'job', status: 'queued', quality: 'draft', prompt: 'a red circle', progress: 1,
    params: { duration_s: 2, fps: 8, frames: 16, width: 128, height: 128, aspect_ratio: '1:1', seed: 7 },
    model: { id: 'm', version: '1', variant: 'int8-128', sha256: 'x'.repeat(64) },
    queue_position: null, estimate: { gpu_seconds: 0.01, credits: 0.1 }, usage: null, assets: null, error: null,
    warnings: [], metadata: {}, parent_job_id: null, webhook_url: null, cache_hit: false, degraded: false, attempts: 0,
    created_at: new Date().toISOString(), started_at: null, finished_at: null, expires_at: null,
  };
}

/** A job id minted `daysAgo` days ago (ids start with their creation time, see newId). */
const idFrom = (daysAgo: number) => `job_${(Date.now() - daysAgo * 86_400_000).toString(36).padStart(9, '0')}0000abcdefghij`;

describe("a team's job index", () => {
  it('expires with the longest-lived job records (files lifetime + CLICKVID_JOB_TTL_DAYS) and drops ids older than that', async () => {
    const team = 'index-ttl';
    // Ids left by jobs from before the TTL: their records are gone, the index kept them.
    for (const d of [400, 90, 25]) await redis.zadd(keys.teamJobs(team), 0, idFrom(d));
    const recent = idFrom(23);
    await redis.zadd(keys.teamJobs(team), 0, recent);
    const fresh = newId('job');
    expect(await lifecycle.accept({ job: job(fresh), team, lane: 'draft', reserveS: 0.01, quotaS: undefined })).toMatchObject({ ok: true });
    expect(await redis.zrange(keys.teamJobs(team), '0', '-1')).toEqual([recent, fresh]);
    const ttl = await redis.ttl(keys.teamJobs(team));
    expect(ttl).toBeGreaterThan(TTL_S - 60);
    expect(ttl).toBeLessThanOrEqual(TTL_S);
  });
});
