/**
 * Two API servers and three workers on one Redis: each job succeeds once and is metered
 * once, and a daily quota holds across both servers (reservations are made by one script
 * on the shared Redis, not counted per process).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startStack, type Stack } from '../harness.js';
import { bullView, expectTwoEach, FAULT_ENV, ledgerTotals, micros, waitAll } from './lib.js';

/** Jobs submitted: 60 in `npm test`, 1,000 in bench/faults-long.mjs. */
const JOBS = Number(process.env.CLICKVID_FAULT_CLUSTER_JOBS ?? 60);
/** A quota that refuses some of them, whatever their number. */
const QUOTA_S = 0.5 * (JOBS / 60);

describe('two API servers, three workers, one Redis', () => {
  let stack: Stack;
  let second: { url: string };
  beforeAll(async () => {
    stack = await startStack({ env: { ...FAULT_ENV, CLICKVID_DAILY_GPU_SECONDS: String(QUOTA_S) }, workers: 3 });
    second = await stack.addServer();
  });
  afterAll(async () => stack?.stop());

  it(`${JOBS} jobs: each succeeds and is metered once; the quota holds across both servers`, { timeout: 60_000 + JOBS * 1000 }, async () => {
    const servers = [stack, { url: second.url, apiKey: stack.apiKey }];
    const res = await Promise.all(
      Array.from({ length: JOBS }, (_, i) => api(servers[i % 2]!, 'POST', '/v1/generate', { prompt: 'a blue square moving left', seed: 20_000 + i })),
    );
    const accepted = res.filter((r) => r.status === 202).map((r) => r.body);
    const refused = res.filter((r) => r.status === 429);
    expect(accepted.length + refused.length).toBe(JOBS);
    const reserved = accepted.reduce((s, j) => s + micros(j.estimate.gpu_seconds), 0);
    console.log(`[faults] cluster: ${accepted.length} accepted (${reserved / 1e6} GPU-s reserved of ${QUOTA_S}), ${refused.length} refused`);
    expect(reserved).toBeLessThanOrEqual(micros(QUOTA_S));
    expect(refused.length).toBeGreaterThan(0);
    const jobs = await waitAll(stack, accepted.map((j) => j.id), 180_000 + JOBS * 1000);
    for (const j of jobs) if (j.status !== 'succeeded') j.error.bull = await bullView(stack.redisUrl, j.id);
    expect(jobs.map((j) => (j.status === 'succeeded' ? j.status : `${j.status}: ${JSON.stringify(j.error)}`))).toEqual(accepted.map(() => 'succeeded'));
    await expectTwoEach(stack, accepted.map((j) => j.id));
    const ledger = await ledgerTotals(stack);
    expect(ledger.jobs).toBe(accepted.length);
    expect(ledger.gpuMicros).toBe(jobs.reduce((s, j) => s + micros(j.usage.gpu_seconds), 0));
  });
});
