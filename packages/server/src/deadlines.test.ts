import { ErrorBody, Job, TeamEvent } from '@clickvid/contracts';
import { fieldsOf, keys, utcDay } from '@clickvid/core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeadlineSweeper } from './deadline-sweeper.js';
import { testApp } from './internal/app.testkit.js';

let t: Awaited<ReturnType<typeof testApp>>;
let sweeper: DeadlineSweeper;
beforeAll(async () => {
  t = await testApp();
  // The server's sweeper, as main.ts starts it. No worker runs in this file: nothing else can start or end a job.
  sweeper = new DeadlineSweeper(t.deps.lifecycle, t.deps.queues, pino({ level: 'silent' }));
  sweeper.start();
});
afterAll(async () => {
  await sweeper.close();
  await t.close();
});

const PUBLIC_HOOK = 'https://93.184.216.34/hook';
const submit = async (payload: object, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url: '/v1/generate', headers: { ...t.auth(t.keyA), ...headers }, payload });
const get = async (id: string) => Job.parse((await t.app.inject({ url: `/v1/jobs/${id}`, headers: t.auth(t.keyA) })).json());

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('deadlines (deadline_s, Cancel-After)', () => {
  it('a final with deadline_s: 5 and no final worker is canceled at no charge, with deadline_exceeded, its webhook and its event; one that started in time is unaffected', async () => {
    const late = Job.parse((await submit({ prompt: 'a red circle moving right', quality: 'final', deadline_s: 5, webhook_url: PUBLIC_HOOK })).json());
    const started = Job.parse((await submit({ prompt: 'a blue square moving left', quality: 'final', deadline_s: 5 })).json());
    expect(Date.parse(late.deadline_at!) - Date.parse(late.created_at)).toBe(5000);
    expect((await t.deps.redis.hget(keys.usage('alpha', utcDay()), 'reserved_us'))).not.toBe('0');
    // A worker takes the second job before its deadline.
    expect(await t.deps.lifecycle.start(started.id, 1)).not.toBeNull();

    const canceled = await until('the deadline cancel', async () => {
      const j = await get(late.id);
      return j.status === 'queued' ? undefined : j;
    });
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(late.deadline_at!));
    expect(canceled).toMatchObject({ status: 'canceled', usage: null, error: { code: 'deadline_exceeded', retryable: false } });
    // No charge: the reservation is released and the ledger shows nothing billed.
    const usage = await t.deps.redis.hgetall(keys.usage('alpha', utcDay()));
    expect(Number(usage.total_gpu_us ?? 0)).toBe(0);
    expect(await t.deps.queues.final.getJob(late.id)).toBeUndefined();
    // The webhook, in the outbox with the job as it ended.
    const outbox = ((await t.deps.redis.xrange(keys.webhookOutbox(), '-', '+')) as Array<[string, string[]]>).map(([, f]) => fieldsOf(f));
    const hook = outbox.find((f) => f.job === late.id);
    expect(hook?.type).toBe('job.canceled');
    expect(JSON.parse(hook!.payload!).data.error.code).toBe('deadline_exceeded');
    // The team event.
    const events = ((await t.deps.redis.xrange(keys.teamEvents('alpha'), '-', '+')) as Array<[string, string[]]>)
      .map(([id, f]) => TeamEvent.parse({ id, ...JSON.parse(fieldsOf(f).data!) }))
      .filter((e) => e.job.id === late.id);
    expect(events.map((e) => e.type)).toEqual(['job.queued', 'job.canceled']);

    // Past the second job's deadline, with sweeps run since: still running, and no longer watched.
    await until('a sweep after the second deadline', async () => (Date.now() > Date.parse(started.deadline_at!) + 1500 ? true : undefined));
    expect((await get(started.id)).status).toBe('running');
    expect(await t.deps.redis.zscore(keys.deadlines(), started.id)).toBeNull();
    // With both jobs gone from the set, a sweep finds nothing.
    expect(await sweeper.sweep(Date.now() + 3_600_000)).toBe(0);
    await t.deps.lifecycle.cancel(started.id);
  });

  it('Cancel-After sets the same deadline; the body wins; a bad value is a 400', async () => {
    const viaHeader = Job.parse((await submit({ prompt: 'a red circle moving right' }, { 'cancel-after': '60' })).json());
    expect(Date.parse(viaHeader.deadline_at!) - Date.parse(viaHeader.created_at)).toBe(60_000);
    const both = Job.parse((await submit({ prompt: 'a red circle moving right', deadline_s: 30 }, { 'cancel-after': '60' })).json());
    expect(Date.parse(both.deadline_at!) - Date.parse(both.created_at)).toBe(30_000);
    const bad = await submit({ prompt: 'a red circle moving right' }, { 'cancel-after': 'soon' });
    expect(bad.statusCode).toBe(400);
    expect(ErrorBody.parse(bad.json()).error.code).toBe('validation_failed');
    const none = Job.parse((await submit({ prompt: 'a red circle moving right' })).json());
    expect(none.deadline_at).toBeUndefined();
    // Two sweepers racing over the same overdue jobs cancel each once.
    const other = new DeadlineSweeper(t.deps.lifecycle, t.deps.queues, pino({ level: 'silent' }));
    const later = Date.now() + 120_000;
    const [a, b] = await Promise.all([other.sweep(later), sweeper.sweep(later)]);
    expect(a + b).toBe(2);
    for (const j of [viaHeader, both]) expect((await get(j.id)).error?.code).toBe('deadline_exceeded');
    expect((await get(none.id)).status).toBe('queued');
  });
});
