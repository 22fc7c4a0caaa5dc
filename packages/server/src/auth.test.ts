import { hashApiKey, keys } from '@clickvid/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from './internal/app.testkit.js';

let t: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => t.close());

const jobs = (key: string) => t.app.inject({ url: '/v1/jobs', headers: t.auth(key) }).then((r) => r.statusCode);
/** Marks a key revoked in Redis without telling anyone: only a cache would still accept it. */
const revokeSilently = (key: string) => t.deps.redis.hset(keys.apiKey(hashApiKey(key)), 'revoked_at', new Date().toISOString());
const commandCount = async (cmd: string) => {
  const m = new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(await t.deps.redis.info('commandstats'));
  return Number(m?.[1] ?? 0);
};

describe('auth cache', () => {
  it('a cached key costs no Redis read per request', async () => {
    const key = await t.deps.teams.addApiKey('alpha');
    await jobs(key);
    const before = await commandCount('hgetall');
    for (let i = 0; i < 20; i++) expect(await jobs(key)).toBe(200);
    // /v1/jobs itself reads job hashes, but none exist for this team yet: every HGETALL would be auth's.
    expect((await commandCount('hgetall')) - before).toBe(0);
  });

  it('caches again once the subscriber is back after a disconnect, and flushes what it had', async () => {
    const stale = await t.deps.teams.addApiKey('alpha');
    expect(await jobs(stale)).toBe(200);
    await revokeSilently(stale); // a revocation whose message was lost
    await t.deps.redis.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await expect.poll(() => jobs(stale), { timeout: 2000 }).toBe(401);
    // Back to normal: a fresh key is cached again (a silent revocation goes unnoticed until the TTL).
    const fresh = await t.deps.teams.addApiKey('alpha');
    await new Promise((r) => setTimeout(r, 300));
    expect(await jobs(fresh)).toBe(200);
    await revokeSilently(fresh);
    expect(await jobs(fresh)).toBe(200);
  });

  it('writes last_used_at in batches', async () => {
    const key = await t.deps.teams.addApiKey('beta', undefined, 'batched');
    expect(await jobs(key)).toBe(200);
    const id = (await t.deps.teams.authenticate(key))!.keyId;
    expect((await t.deps.teams.getKey(id))!.last_used_at).toBeNull();
    await t.deps.auth.flushLastUsed();
    expect((await t.deps.teams.getKey(id))!.last_used_at).not.toBeNull();
  });
});
