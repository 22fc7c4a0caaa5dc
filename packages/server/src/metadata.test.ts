import { ErrorBody, Job, UsageReport } from '@clickvid/contracts';
import { newId, utcDay } from '@clickvid/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from './internal/app.testkit.js';

let t: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => t.close());

const PROMPT = 'a red circle moving right on a blue background';
const gen = (body: object, key = t.keyA) => t.app.inject({ method: 'POST', url: '/v1/generate', headers: t.auth(key), payload: body });
const sixteen = (prefix: string) => Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`${prefix}${i}`, 'v'.repeat(500)]));

describe('metadata limits hold for the merged metadata of from_job', () => {
  it('a chain of iterations cannot grow metadata past 16 keys', async () => {
    let parent = Job.parse((await gen({ prompt: PROMPT, metadata: sixteen('k0_') })).json());
    const outcomes: Array<{ keys: number; status: number; code: string | null }> = [];
    for (let i = 1; i <= 5; i++) {
      const res = await gen({ from_job: parent.id, metadata: sixteen(`k${i}_`) });
      const body = res.json();
      outcomes.push({ keys: res.statusCode === 202 ? Object.keys(body.metadata).length : 0, status: res.statusCode, code: res.statusCode === 202 ? null : ErrorBody.parse(body).error.code });
      if (res.statusCode === 202) parent = Job.parse(body);
    }
    expect(outcomes).toEqual(Array(5).fill({ keys: 0, status: 400, code: 'validation_failed' }));
    const err = ErrorBody.parse((await gen({ from_job: parent.id, metadata: { extra: 'x' } })).json()).error;
    expect(err.param).toBe('metadata');
    expect(err.message).toMatch(/16/);
  });

  it('overriding inherited keys stays within the limit and is accepted', async () => {
    const parent = Job.parse((await gen({ prompt: PROMPT, metadata: sixteen('k_') })).json());
    const res = await gen({ from_job: parent.id, metadata: { k_0: 'changed' } });
    expect(res.statusCode).toBe(202);
    expect(Object.keys(Job.parse(res.json()).metadata)).toHaveLength(16);
  });
});

describe('campaign tags are billed and reported', () => {
  it('control characters in metadata keys or values are refused with validation_failed', async () => {
    for (const metadata of [{ campaign: 'a\u001fb' }, { campaign: 'tab\there' }, { campaign: 'nl\n' }, { 'ca\u0000mp': 'x' }, { campaign: '\u0085c1' }]) {
      const res = await gen({ prompt: PROMPT, metadata });
      expect({ metadata, status: res.statusCode, code: ErrorBody.parse(res.json()).error.code }).toEqual({ metadata, status: 400, code: 'validation_failed' });
    }
    expect((await gen({ prompt: PROMPT, metadata: { campaign: 'Spring launch — ünïcode ✓' } })).statusCode).toBe(202);
  });

  it('usage recorded under a campaign holding the ledger separator still shows in /v1/usage', async () => {
    // Jobs accepted before the contract refused control characters still carry them, and the worker bills them.
    const campaign = `evade\u001f${newId('req')}\u001fx`;
    await t.deps.ledger.record('alpha', 'draft', campaign, 1.25, 12.5);
    const report = UsageReport.parse((await t.app.inject({ url: '/v1/usage', headers: t.auth(t.keyA) })).json());
    const row = report.data.find((r) => r.campaign === campaign);
    expect(row).toMatchObject({ day: utcDay(), quality: 'draft', jobs: 1, gpu_seconds: 1.25, credits: 12.5 });
    expect(report.totals.gpu_seconds).toBeCloseTo(report.quota.used_today, 6);
  });
});
