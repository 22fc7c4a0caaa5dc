import type { Job } from '@clickvid/contracts';
import { describe, expect, it } from 'vitest';
import { newId } from './ids.js';
import { jobRedis, testJob } from './job.testkit.js';

const t = jobRedis();
const job = testJob;

const create = (j: Job, team: string, lane: 'draft' | 'final') => t.lifecycle.accept({ job: j, team, lane, reserveS: 0, quotaS: undefined });

describe('JobStore', () => {
  it('round-trips a job exactly', async () => {
    const j = job({ metadata: { campaign: 'spring' }, warnings: ['w'] });
    await create(j, 't1', 'draft');
    expect((await t.store.get(j.id))?.job).toEqual(j);
    expect((await t.store.get(j.id))?.team).toBe('t1');
  });

  it('reports queue positions in submit order per lane', async () => {
    const a = job({ created_at: new Date(Date.now() + 10_000).toISOString() });
    const b = job({ created_at: new Date(Date.now() + 20_000).toISOString() });
    await create(a, 't2', 'draft');
    await create(b, 't2', 'draft');
    const pa = (await t.store.queuePosition('draft', a.id))!;
    expect(await t.store.queuePosition('draft', b.id)).toBe(pa + 1);
  });

  it('lists a team newest first with cursor pages and filters, and only that team', async () => {
    const base = Date.now() + 100_000;
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const j = job({ created_at: new Date(base + i).toISOString(), quality: i % 2 ? 'final' : 'draft', metadata: { campaign: i < 4 ? 'a' : 'b' } });
      ids.push(j.id);
      await create(j, 'lister', 'draft');
    }
    await create(job(), 'other', 'draft');
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const res = await t.store.list('lister', { limit: 3, cursor });
      seen.push(...res.jobs.map((s) => s.job.id));
      if (!res.nextCursor) break;
      cursor = res.nextCursor;
    }
    expect(seen).toEqual([...ids].reverse());
    const finals = await t.store.list('lister', { limit: 10, filter: (j) => j.quality === 'final' && j.metadata.campaign === 'a' });
    expect(finals.jobs.map((s) => s.job.id)).toEqual([ids[3], ids[1]]);
    expect(finals.nextCursor).toBeNull();
  });
});

describe('JobStore.list with jobs of the same millisecond', () => {
  it('pages through every job exactly once', async () => {
    const at = new Date().toISOString();
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) {
      const j = job({ created_at: at });
      ids.push(j.id);
      await create(j, 'same-ms', 'draft');
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await t.store.list('same-ms', { limit: 2, cursor });
      seen.push(...res.jobs.map((s) => s.job.id));
      cursor = res.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });
});
