/**
 * A real duplicate delivery: a worker is SIGSTOPped past its lock while it holds jobs, a
 * second worker takes them over, then the first is SIGCONTed and carries on with its stale
 * attempts. Fencing must make the second the only winner and keep its files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../harness.js';
import { attemptsByJob, expectTwoEach, FAULT_ENV, ledgerTotals, sleep, submitDrafts, untilRunning, waitAll } from './lib.js';

describe('duplicate delivery (SIGSTOP past the lock, SIGCONT after another worker finished)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: FAULT_ENV });
  });
  afterAll(async () => {
    for (const p of stack?.workerProcs ?? []) p.kill('SIGCONT');
    await stack?.stop();
  });

  it('one winner per job, its files kept, each metered once', async () => {
    const stopped = stack.workerProcs[0]!;
    const ids = await submitDrafts(stack, 8, { seed0: 7000 });
    await untilRunning(stack, ids);
    stopped.kill('SIGSTOP');
    const t0 = Date.now();
    stack.addWorker();
    const jobs = await waitAll(stack, ids, 180_000);
    console.log(`[faults] duplicate: all ${ids.length} done ${((Date.now() - t0) / 1000).toFixed(1)} s after SIGSTOP`);
    stopped.kill('SIGCONT');
    // The stale attempts run on, are refused at their next step, and remove only their own files.
    await sleep(3000);
    expect(jobs.map((j) => (j.status === 'succeeded' ? j.status : `${j.status}: ${JSON.stringify(j.error)}`))).toEqual(ids.map(() => 'succeeded'));
    const attempts = await attemptsByJob(stack.redisUrl, ids);
    const duplicated = [...attempts.values()].filter((n) => n > 1).length;
    console.log(`[faults] duplicate: ${duplicated} of ${ids.length} jobs ran twice`);
    expect(duplicated).toBeGreaterThan(0);
    await expect.poll(() => expectTwoEach(stack, ids).then(() => true, (e: Error) => e.message), { timeout: 20_000 }).toBe(true);
    // Each job's content is served: the winner's files were not deleted.
    for (const j of jobs) {
      const a = await fetch(`${stack.url}/v1/assets/${j.assets.video}`, { headers: { authorization: `Bearer ${stack.apiKey}` } }).then((r) => r.json());
      expect((await fetch(a.url)).status).toBe(200);
    }
    const ledger = await ledgerTotals(stack);
    expect(ledger.jobs).toBe(ids.length);
  });
});
