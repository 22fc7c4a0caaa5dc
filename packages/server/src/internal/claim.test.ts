import { createServerRedis, redisReady, type Redis } from '@clickvid/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisHandle } from '../../../../test/harness.js';
import { Claim } from './claim.js';

let rh: RedisHandle;
let redis: Redis;

beforeAll(async () => {
  rh = await startRedis();
  // As the server makes its client (deps.ts): commands sent in one tick go out in one auto-pipeline.
  redis = createServerRedis(rh.url, 2000, { enableAutoPipelining: true });
  await redisReady(redis, 2000);
});
afterAll(async () => {
  redis.disconnect();
  await rh.stop();
});

describe('Claim', () => {
  it('commits beside other commands in the same auto-pipeline, the first time a client commits', async () => {
    // The server's first Idempotency-Key commit used to define its Lua commands on the client then,
    // after the tick's auto-pipeline had been made without them: the commit failed, and ioredis then
    // threw "results[i] is not iterable" outside any request, which killed the API server.
    const claim = await Claim.take(redis, 'cv:test:claim', Claim.token());
    const other = redis.get('cv:test:other');
    const committed = claim!.commit('final', 60);
    await expect(Promise.all([other, committed])).resolves.toEqual([null, true]);
    expect(await redis.get('cv:test:claim')).toBe('final');
  });

  it('renews, releases, and refuses a commit once the claim was lost', async () => {
    const claim = await Claim.take(redis, 'cv:test:lost', 'mine', 1000);
    expect(await Claim.take(redis, 'cv:test:lost', 'theirs')).toBeNull();
    await redis.set('cv:test:lost', 'someone else');
    expect(await claim!.commit('final', 60)).toBe(false);
    const again = await Claim.take(redis, 'cv:test:released', 'mine');
    await again!.release();
    expect(await redis.exists('cv:test:released')).toBe(0);
  });
});
