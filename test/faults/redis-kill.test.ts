/**
 * Redis SIGKILLed with an AOF fsynced every second, down for a while (2 s in `npm test`,
 * 35 s in bench/faults-long.mjs via CLICKVID_FAULT_REDIS_DOWN_S), restarted on the same
 * port: every job the API acknowledged (202) survives and succeeds once. A Redis process
 * death loses nothing acknowledged (the AOF is written before the reply); a host crash
 * could lose up to about a second of writes with everysec.
 *
 * While Redis is down a client keeps submitting, each request tagged in its metadata: it
 * gets 503 service_unavailable fast, and afterwards every 503 left no job and every 202
 * left exactly one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startStack, type Stack } from '../harness.js';
import { exited, FAULT_ENV, ledgerTotals, sleep, submitDrafts, waitAll } from './lib.js';

const DOWN_S = Number(process.env.CLICKVID_FAULT_REDIS_DOWN_S ?? 2);

describe(`Redis SIGKILL, down ${DOWN_S} s (AOF everysec)`, () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: FAULT_ENV, persist: true });
  });
  afterAll(async () => stack?.stop());

  it('0 acknowledged jobs lost; each succeeds once and is metered once; every 503 left no job, every 202 one', { timeout: 120_000 + DOWN_S * 3000 }, async () => {
    const redis = stack.redis as Awaited<ReturnType<typeof import('../harness.js').startPersistentRedis>>;
    const ids = await submitDrafts(stack, 12, { seed0: 11_000 });
    redis.proc.kill('SIGKILL');
    await exited(redis.proc);

    // A client submitting while Redis is down, one request at a time, each with its own tag.
    const answers: { tag: string; status: number; code?: string; ms: number }[] = [];
    const until = Date.now() + DOWN_S * 1000;
    for (let i = 0; Date.now() < until; i++) {
      const t0 = performance.now();
      const r = await api(stack, 'POST', '/v1/generate', { prompt: 'a green square moving up', seed: 50_000 + i, metadata: { tag: `down-${i}` } });
      answers.push({ tag: `down-${i}`, status: r.status, code: r.body?.error?.code, ms: performance.now() - t0 });
      await sleep(200);
    }
    await redis.restart();
    const t0 = Date.now();
    const jobs = await waitAll(stack, ids, 120_000);
    const slowest = Math.max(...answers.map((a) => a.ms));
    console.log(
      `[faults] redis kill, down ${DOWN_S} s: ${ids.length} acknowledged before, ${jobs.filter((j) => j.status === 'succeeded').length} succeeded, ` +
        `done ${((Date.now() - t0) / 1000).toFixed(1)} s after the restart; while down ${answers.length} submits: ` +
        `${answers.filter((a) => a.status === 503).length} × 503, ${answers.filter((a) => a.status === 202).length} × 202, slowest answer ${slowest.toFixed(0)} ms`,
    );
    expect(jobs.map((j) => (j.status === 'succeeded' ? j.status : `${j.status}: ${JSON.stringify(j.error)}`))).toEqual(ids.map(() => 'succeeded'));

    // Every tagged request left as many jobs as it was acknowledged: one for a 202, none for a 503.
    const byTag = new Map<string, number>();
    let cursor: string | null = null;
    do {
      const page: { body: { data: { metadata: Record<string, string> }[]; next_cursor: string | null } } = await api(stack, 'GET', `/v1/jobs?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
      for (const j of page.body.data) if (j.metadata.tag) byTag.set(j.metadata.tag, (byTag.get(j.metadata.tag) ?? 0) + 1);
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(answers.map((a) => `${a.tag} ${a.status} ${a.status === 202 ? 'job' : a.code}: ${byTag.get(a.tag) ?? 0}`)).toEqual(
      answers.map((a) => `${a.tag} ${a.status} ${a.status === 202 ? 'job' : a.code}: ${a.status === 202 ? 1 : 0}`),
    );
    expect(answers.every((a) => a.status === 503 || a.status === 202)).toBe(true);
    expect(answers.filter((a) => a.status === 503).length).toBeGreaterThan(0);
    // Fast: the server does not wait on a Redis that is gone (CLICKVID_REDIS_TIMEOUT_MS bounds the worst case).
    expect(slowest).toBeLessThan(5000);
    // Metered once each: the jobs from before the outage and any submit acknowledged before Redis died.
    const late = await waitTagged(stack, answers);
    expect((await ledgerTotals(stack)).jobs).toBe(ids.length + late);
  });
});

/** Waits for the jobs acknowledged while Redis was down (if any slipped in before it died) and answers how many. */
async function waitTagged(stack: Stack, answers: { tag: string; status: number }[]): Promise<number> {
  const tags = new Set(answers.filter((a) => a.status === 202).map((a) => a.tag));
  if (tags.size === 0) return 0;
  const page = await api(stack, 'GET', '/v1/jobs?limit=100');
  const ids = (page.body.data as { id: string; metadata: Record<string, string> }[]).filter((j) => tags.has(j.metadata.tag ?? '')).map((j) => j.id);
  await waitAll(stack, ids, 120_000);
  return ids.length;
}
