import { ErrorBody } from '@clickvid/contracts';
import { keys } from '@clickvid/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listeningTestApp, type ListeningTestApp } from './internal/app.testkit.js';

let t: ListeningTestApp;
beforeAll(async () => {
  t = await listeningTestApp({ CLICKVID_SSE_MAX_STREAMS_PER_TEAM: '2' });
});
afterEach(() => t.abortStreams());
afterAll(async () => t.close());

/** Opens a job's event stream over a real socket; `first` is the first chunk (for a 200). */
async function open(key: string, id: string) {
  const ctl = t.stream();
  const res = await fetch(`${t.base}/v1/jobs/${id}/events`, { headers: t.auth(key), signal: ctl.signal });
  if (res.status !== 200) return { status: res.status, body: await res.json(), retryAfter: res.headers.get('retry-after'), close: () => undefined };
  const reader = res.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  return { status: 200, first, close: () => ctl.abort() };
}

describe('event stream cap per team', () => {
  it('past CLICKVID_SSE_MAX_STREAMS_PER_TEAM a team gets 429 too_many_streams; closing one frees its slot; other teams are unaffected', async () => {
    const jobs = await Promise.all([t.submit(t.keyA), t.submit(t.keyA), t.submit(t.keyA)]);
    const s1 = await open(t.keyA, jobs[0]!.id);
    const s2 = await open(t.keyA, jobs[1]!.id);
    expect([s1.status, s2.status]).toEqual([200, 200]);
    expect.soft(s1.first).toMatch(/^id: queued\|0\|\d+\nevent: status\n/);

    const s3 = await open(t.keyA, jobs[2]!.id);
    expect(s3.status).toBe(429);
    expect(ErrorBody.parse(s3.body).error.code).toBe('too_many_streams');
    expect(Number(s3.retryAfter)).toBeGreaterThan(0);

    const b = await open(t.keyB, (await t.submit(t.keyB)).id);
    expect(b.status).toBe(200);
    b.close();

    s1.close();
    let again = await open(t.keyA, jobs[2]!.id);
    for (let i = 0; i < 40 && again.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 25));
      again = await open(t.keyA, jobs[2]!.id);
    }
    expect(again.status).toBe(200);
    again.close();
    s2.close();
  });

  it("a dead server's streams stop counting when their leases run out", async () => {
    // Two leases that expired a second ago: what a server killed mid-stream leaves behind.
    await t.deps.redis.zadd(keys.teamStreams('beta'), Date.now() - 1000, 'req_dead1', Date.now() - 1000, 'req_dead2');
    const s = await open(t.keyB, (await t.submit(t.keyB)).id);
    expect(s.status).toBe(200);
    s.close();
  });
});
