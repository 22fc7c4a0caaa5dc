import { ErrorBody, TeamEvent } from '@clickvid/contracts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listeningTestApp, type ListeningTestApp } from './internal/app.testkit.js';

let t: ListeningTestApp;
beforeAll(async () => {
  t = await listeningTestApp();
});
afterEach(() => t.abortStreams());
afterAll(async () => t.close());

/** GET /v1/events over a real socket; `next(n)` reads until n more events came (parsed as the contract says, with their `id:` line). */
async function open(key: string, lastEventId?: string) {
  const ctl = t.stream();
  const res = await fetch(`${t.base}/v1/events`, { headers: { ...t.auth(key), ...(lastEventId ? { 'last-event-id': lastEventId } : {}) }, signal: ctl.signal });
  if (res.status !== 200) return { status: res.status, body: await res.json(), next: async () => [] as TeamEvent[], close: () => undefined };
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  const first = await reader.read(); // the `: connected` comment: the stream is open and subscribed
  buf += decoder.decode(first.value, { stream: true });
  const next = async (n: number) => {
    const out: TeamEvent[] = [];
    for (;;) {
      let end;
      while ((end = buf.indexOf('\n\n')) !== -1) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const lines = block.split('\n');
        const id = lines.find((l) => l.startsWith('id: '))?.slice(4);
        const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
        if (!data) continue;
        const ev = TeamEvent.parse(JSON.parse(data));
        expect(ev.id).toBe(id);
        out.push(ev);
        if (out.length === n) return out;
      }
      const { value, done } = await reader.read();
      if (done) return out;
      buf += decoder.decode(value, { stream: true });
    }
  };
  return { status: res.status, body: undefined, next, close: () => ctl.abort() };
}

describe('GET /v1/events', () => {
  it("carries every event of the caller's team, in order, with ids; never another team's", async () => {
    const s = await open(t.keyA);
    expect(s.status).toBe(200);
    const other = await t.submit(t.keyB);
    const j = await t.submit(t.keyA);
    const at = (await t.deps.lifecycle.start(j.id, 1))!;
    await t.deps.lifecycle.progress(j.id, at.token, 0.5);
    await t.deps.lifecycle.cancel(j.id);
    const got = await s.next(4);
    expect(got.map((e) => [e.type, e.job.id])).toEqual([
      ['job.queued', j.id], ['job.running', j.id], ['job.progress', j.id], ['job.canceled', j.id],
    ]);
    expect(got.some((e) => e.job.id === other.id)).toBe(false);
    expect(got[2]!.job.progress).toBe(0.5);
  });

  it('resumes after Last-Event-ID with what happened meanwhile, without repeats; without it starts at the next event', async () => {
    const s = await open(t.keyA);
    const a = await t.submit(t.keyA);
    const [first] = await s.next(1);
    expect(first!.job.id).toBe(a.id);
    s.close();
    // While nobody listens:
    const b = await t.submit(t.keyA);
    await t.deps.lifecycle.cancel(b.id);

    const resumed = await open(t.keyA, first!.id);
    expect((await resumed.next(2)).map((e) => [e.type, e.job.id])).toEqual([['job.queued', b.id], ['job.canceled', b.id]]);
    const c = await t.submit(t.keyA);
    expect((await resumed.next(1)).map((e) => e.job.id)).toEqual([c.id]);

    const fresh = await open(t.keyA);
    const d = await t.submit(t.keyA);
    expect((await fresh.next(1)).map((e) => e.job.id)).toEqual([d.id]);
  });

  it('a malformed Last-Event-ID is a 400 validation_failed; no key is a 401', async () => {
    const bad = await open(t.keyA, 'queued|0|1');
    expect(bad.status).toBe(400);
    expect(ErrorBody.parse(bad.body).error.code).toBe('validation_failed');
    const res = await fetch(`${t.base}/v1/events`);
    expect(res.status).toBe(401);
  });
});
