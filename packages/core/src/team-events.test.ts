import { TeamEvent } from '@clickvid/contracts';
import { describe, expect, it } from 'vitest';
import { jobRedis, testJob } from './job.testkit.js';
import { keys } from './keys.js';
import { JobLifecycle } from './lifecycle.js';
import { fieldsOf } from './redis.js';

const t = jobRedis();

/** The team's stream as the API sends it: the entry id joined to the stored event. */
async function events(team: string) {
  const entries = (await t.redis.xrange(keys.teamEvents(team), '-', '+')) as Array<[string, string[]]>;
  return entries.map(([id, flat]) => TeamEvent.parse({ id, ...JSON.parse(fieldsOf(flat).data!) }));
}

describe('team event stream (written by the lifecycle scripts)', () => {
  it('every change of a job is one event of its team, in order, carrying the job as the change left it', async () => {
    const j = testJob();
    await t.lifecycle.accept({ job: j, team: 'ev1', lane: 'draft', reserveS: 0.5, quotaS: undefined });
    const at = (await t.lifecycle.start(j.id, 1))!;
    await t.lifecycle.progress(j.id, at.token, 0.5);
    await t.lifecycle.requeue(j.id, at.token);
    await t.lifecycle.cancel(j.id);
    const other = testJob();
    await t.lifecycle.accept({ job: other, team: 'ev2', lane: 'draft', reserveS: 0.5, quotaS: undefined });

    const got = await events('ev1');
    expect(got.map((e) => [e.type, e.job.status, e.job.progress])).toEqual([
      ['job.queued', 'queued', 0],
      ['job.running', 'running', 0],
      ['job.progress', 'running', 0.5],
      ['job.queued', 'queued', 0],
      ['job.canceled', 'canceled', 0],
    ]);
    expect(got.every((e) => e.job.id === j.id)).toBe(true);
    // Entry ids increase: they are the SSE ids a client resumes after.
    const ids = got.map((e) => e.id);
    expect([...ids].sort(byStreamId)).toEqual(ids);
    expect((await events('ev2')).map((e) => e.job.id)).toEqual([other.id]);
  });

  it('is bounded: trimmed to about CLICKVID_EVENTS_MAX_PER_TEAM entries, and expires when idle for the window', async () => {
    const small = new JobLifecycle(t.redis, 3600, { retainS: 60, maxPerTeam: 100 });
    for (let i = 0; i < 30; i++) {
      const j = testJob();
      await small.accept({ job: j, team: 'ev3', lane: 'draft', reserveS: 0.1, quotaS: undefined });
      const at = (await small.start(j.id, 1))!;
      for (let p = 1; p <= 8; p++) await small.progress(j.id, at.token, p / 10);
    }
    // 300 events written; MAXLEN ~ trims whole radix-tree nodes (100 entries each), so at most one node over.
    const len = await t.redis.xlen(keys.teamEvents('ev3'));
    expect(len).toBeGreaterThanOrEqual(100);
    expect(len).toBeLessThanOrEqual(200);
    const ttl = await t.redis.pttl(keys.teamEvents('ev3'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });
});

function byStreamId(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am === bm ? Number(as - bs) : am < bm ? -1 : 1;
}
