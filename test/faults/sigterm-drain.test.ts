/** SIGTERM mid-batch: the worker drains within its deadline or puts jobs back; none is lost. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../harness.js';
import { exited, expectTwoEach, FAULT_ENV, ledgerTotals, submitDrafts, untilRunning, waitAll } from './lib.js';

describe('SIGTERM mid-batch', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: FAULT_ENV });
  });
  afterAll(async () => stack?.stop());

  it('drains or requeues within the deadline: 0 lost, each once', async () => {
    const w = stack.workerProcs[0]!;
    const ids = await submitDrafts(stack, 16, { seed0: 9000 });
    await untilRunning(stack, ids);
    const t0 = Date.now();
    w.kill('SIGTERM');
    expect(await exited(w, 15_000)).toBe('0');
    const stopS = (Date.now() - t0) / 1000;
    // Below the local grace period (10 s) with the shipped drain deadline (8 s).
    expect(stopS).toBeLessThan(10);
    stack.addWorker();
    const jobs = await waitAll(stack, ids);
    console.log(`[faults] SIGTERM: worker stopped in ${stopS.toFixed(1)} s; ${ids.length} of ${ids.length} jobs succeeded`);
    expect(jobs.map((j) => (j.status === 'succeeded' ? j.status : `${j.status}: ${JSON.stringify(j.error)}`))).toEqual(ids.map(() => 'succeeded'));
    await expectTwoEach(stack, ids);
    expect((await ledgerTotals(stack)).jobs).toBe(ids.length);
  });
});
