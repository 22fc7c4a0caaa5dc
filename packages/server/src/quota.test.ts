import { Job } from '@clickvid/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from './internal/app.testkit.js';

const QUOTA_S = 5;
let t: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  t = await testApp({ CLICKVID_DAILY_GPU_SECONDS: String(QUOTA_S) });
});
afterAll(async () => t.close());

describe('daily quota', () => {
  it('100 concurrent submits with little quota left never overshoot by more than one estimate', async () => {
    const estimate = t.deps.registry.estimateSeconds('draft', t.deps.registry.resolveParams('draft', {}, () => 0));
    // Leave room for about four drafts: the rest must be refused, not accepted and billed later.
    const left = 4.4 * estimate;
    await t.deps.ledger.record('alpha', 'draft', null, QUOTA_S - left, 0);
    const res = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        t.app.inject({ method: 'POST', url: '/v1/generate', headers: t.auth(t.keyA), payload: { prompt: 'a red circle', seed: 1000 + i } }),
      ),
    );
    const accepted = res.filter((r) => r.statusCode === 202).map((r) => Job.parse(r.json()));
    const refused = res.filter((r) => r.statusCode === 429);
    expect(accepted.length + refused.length).toBe(100);
    const reserved = accepted.reduce((s, j) => s + j.estimate.gpu_seconds, 0);
    expect(reserved).toBeLessThanOrEqual(left + estimate);
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    for (const r of refused) expect(r.json()).toMatchObject({ error: { code: 'quota_exceeded' } });
  });
});
