import type { Job } from '@clickvid/contracts';
import { afterAll, beforeAll } from 'vitest';
import { startRedis, type RedisHandle } from '../../../test/harness.js';
import { newId } from './ids.js';
import { JobStore } from './job-store.js';
import { JobLifecycle } from './lifecycle.js';
import { createRedis, type Redis } from './redis.js';

/** A queued draft job record with every field set; `over` replaces any of them. */
export function testJob(over: Partial<Job> = {}): Job {
  return {
    id: newId('job'), object: 'job', status: 'queued', quality: 'draft', prompt: 'a red circle', progress: 0,
    params: { duration_s: 2, fps: 8, frames: 16, width: 128, height: 128, aspect_ratio: '1:1', seed: 7 },
    model: { id: 'm', version: '1', variant: 'int8-128', sha256: 'x'.repeat(64) },
    queue_position: null, estimate: { gpu_seconds: 0.5, credits: 5 }, usage: null, assets: null, error: null,
    warnings: [], metadata: {}, parent_job_id: null, webhook_url: null, cache_hit: false, degraded: false, attempts: 0,
    created_at: new Date().toISOString(), started_at: null, finished_at: null, expires_at: null, ...over,
  };
}

/** A private redis-server for the file, with a JobStore and a JobLifecycle on it. */
export function jobRedis() {
  const t = {} as { rh: RedisHandle; redis: Redis; store: JobStore; lifecycle: JobLifecycle };
  beforeAll(async () => {
    t.rh = await startRedis();
    t.redis = createRedis(t.rh.url);
    t.store = new JobStore(t.redis);
    t.lifecycle = new JobLifecycle(t.redis, 3600);
  });
  afterAll(async () => {
    t.redis.disconnect();
    await t.rh.stop();
  });
  return t;
}
