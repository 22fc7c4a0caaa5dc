import { createHash } from 'node:crypto';
import { ErrorBody, Job } from '@clickvid/contracts';
import { createRedis, keys, newId } from '@clickvid/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Idempotency } from './idempotency.js';
import { testApp } from './internal/app.testkit.js';

let t: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => t.close());

const PROMPT = 'two red circles moving right on a blue background';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const gen = (body: object, key: string) =>
  t.app.inject({ method: 'POST', url: '/v1/generate', headers: { ...t.auth(t.keyA), 'idempotency-key': key }, payload: body });

/** The SET commands Redis receives while `fn` runs (MONITOR: what really reaches the server). */
async function setsDuring(fn: () => Promise<unknown>, prefix: string): Promise<string[][]> {
  const monitor = await createRedis(t.config.redisUrl).monitor();
  const seen: string[][] = [];
  monitor.on('monitor', (_time: string, args: string[]) => {
    if (args[0]?.toLowerCase() === 'set' && args[1]?.startsWith(prefix)) seen.push(args);
  });
  try {
    await fn();
    await sleep(50);
  } finally {
    monitor.disconnect();
  }
  return seen;
}

/** The TTL in ms a SET command asked for. */
function ttlMsOf(args: string[]): number {
  const i = args.findIndex((a) => /^(ex|px)$/i.test(a));
  return Number(args[i + 1]) * (args[i]!.toLowerCase() === 'ex' ? 1000 : 1);
}

describe('idempotency claims', () => {
  it('a claim orphaned by a crashed server blocks its key for seconds, not a day', async () => {
    // The "crashed" server: its own connection, a request that never answers, then the connection dies with it.
    const conn = createRedis(t.config.redisUrl);
    const crashed = new Idempotency(conn, { claimTtlMs: 400 });
    const key = `crash-${newId('req')}`;
    const body = { prompt: PROMPT, seed: 77 };
    void crashed.run('alpha', key, { route: 'generate', body }, () => new Promise(() => {})).catch(() => undefined);
    const rkey = keys.idempotency('alpha', sha256(key));
    for (let i = 0; i < 100 && !(await t.deps.redis.exists(rkey)); i++) await sleep(10);
    conn.disconnect();
    expect(await t.deps.redis.pttl(rkey)).toBeLessThanOrEqual(10_000);
    await sleep(700);
    const res = await gen(body, key);
    expect({ status: res.statusCode, code: res.statusCode >= 400 ? ErrorBody.parse(res.json()).error.code : null }).toEqual({ status: 202, code: null });
    // The answer is kept for 24 h once it exists.
    expect(await t.deps.redis.ttl(rkey)).toBeGreaterThan(23 * 3600);
  });

  it('a claim is renewed while its request runs: a slow first request is not run twice', async () => {
    const idem = new Idempotency(t.deps.redis, { claimTtlMs: 150 });
    let runs = 0;
    const slow = async () => {
      runs++;
      await sleep(800);
      return { status: 202, body: { ok: runs } };
    };
    const key = `slow-${newId('req')}`;
    const first = idem.run('alpha', key, { a: 1 }, slow);
    await sleep(400); // well past one TTL: only renewal keeps the claim
    const second = await idem.run('alpha', key, { a: 1 }, slow);
    expect(await first).toEqual({ status: 202, body: { ok: 1 }, replayed: false });
    expect(second).toEqual({ status: 202, body: { ok: 1 }, replayed: true });
    expect(runs).toBe(1);
  });

  it('the pending claim is written with a TTL of seconds; the stored answer with 24 h', async () => {
    const key = `ttl-${newId('req')}`;
    const sets = await setsDuring(() => gen({ prompt: PROMPT }, key), 'cv:idem:');
    expect(sets.length).toBe(2);
    expect(ttlMsOf(sets[0]!)).toBeLessThanOrEqual(10_000);
    expect(ttlMsOf(sets[1]!)).toBe(24 * 3600 * 1000);
  });
});

describe('promotion claims', () => {
  it('an orphaned promotion claim (server died before the job existed) expires in seconds', async () => {
    const draft = Job.parse((await t.app.inject({ method: 'POST', url: '/v1/generate', headers: t.auth(t.keyA), payload: { prompt: PROMPT } })).json());
    const promote = (id: string) => t.app.inject({ method: 'POST', url: `/v1/jobs/${id}/promote`, headers: t.auth(t.keyA), payload: { quality: 'final' } });
    const sets = await setsDuring(() => promote(draft.id), 'cv:promote:');
    // The first write is the claim; a crash right after it leaves exactly that behind.
    const claimTtlMs = ttlMsOf(sets[0]!);
    expect(claimTtlMs).toBeLessThanOrEqual(10_000);

    // Leave that orphan on another draft, as the crashed server would have.
    const other = Job.parse((await t.app.inject({ method: 'POST', url: '/v1/generate', headers: t.auth(t.keyA), payload: { prompt: PROMPT } })).json());
    await t.deps.redis.set(keys.promotion(other.id, 'final'), newId('job'), 'PX', Math.min(claimTtlMs, 600));
    const before = Date.now();
    const res = await promote(other.id);
    expect(res.statusCode).toBe(202);
    expect(Date.now() - before).toBeLessThan(5000);
    expect(await t.deps.redis.ttl(keys.promotion(other.id, 'final'))).toBeGreaterThan(29 * 86_400);
  });
});

describe('Idempotency-Key header', () => {
  it('an empty key is 400 invalid_idempotency_key and creates no job', async () => {
    const campaign = `empty-${newId('req')}`;
    const res = await gen({ prompt: PROMPT, metadata: { campaign } }, '');
    expect(res.statusCode).toBe(400);
    expect(ErrorBody.parse(res.json()).error).toMatchObject({ code: 'invalid_idempotency_key', param: 'Idempotency-Key' });
    const list = await t.app.inject({ url: `/v1/jobs?campaign=${campaign}`, headers: t.auth(t.keyA) });
    expect(list.json().data).toHaveLength(0);
  });
});
