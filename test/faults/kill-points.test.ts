/**
 * A worker SIGKILLed at each named point of a job's life (CLICKVID_CRASH_POINT, read by the
 * shipped processor), one trial each in npm test and three in the long form: every job succeeds once, has exactly two asset
 * records and two stored objects, is metered once, and its webhook arrives.
 */
import { CRASH_POINTS } from '@clickvid/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../harness.js';
import { attemptsByJob, exited, expectTwoEach, FAULT_ENV, ledgerTotals, micros, submitDrafts, waitAll, webhookReceiver, type Receiver } from './lib.js';

// npm test runs one trial per point (the short form); CLICKVID_FAULT_TRIALS=3 npm run test:faults the long form.
const TRIALS = Number(process.env.CLICKVID_FAULT_TRIALS ?? 1);
const JOBS = 6;

describe.each(CRASH_POINTS)('worker SIGKILL at %s', (point) => {
  let stack: Stack;
  let hooks: Receiver;
  beforeAll(async () => {
    hooks = await webhookReceiver();
    stack = await startStack({ env: FAULT_ENV, workerEnv: { CLICKVID_CRASH_POINT: point } });
  });
  afterAll(async () => {
    await stack?.stop();
    await hooks?.close();
  });

  it(`${TRIALS} trials of ${JOBS} drafts: each succeeds once, 2 assets and 2 objects, metered once, webhook delivered`, async () => {
    const all: string[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      // The worker that will crash: the first of the trial's jobs to reach the point kills it.
      const crashing = trial === 0 ? stack.workerProcs[0]! : stack.addWorker({ CLICKVID_CRASH_POINT: point }).proc;
      const ids = await submitDrafts(stack, JOBS, { webhookUrl: hooks.url, seed0: 1000 * (trial + 1) });
      all.push(...ids);
      expect(await exited(crashing)).toBe('SIGKILL');
      const healthy = stack.addWorker();
      const t0 = Date.now();
      const jobs = await waitAll(stack, ids);
      const recoveredS = (Date.now() - t0) / 1000;
      expect(jobs.map((j) => (j.status === 'succeeded' ? j.status : `${j.status}: ${JSON.stringify(j.error)}`))).toEqual(ids.map(() => 'succeeded'));
      const redelivered = [...(await attemptsByJob(stack.redisUrl, ids)).values()].filter((n) => n > 1).length;
      console.log(`[faults] ${point} trial ${trial + 1}: ${JOBS} jobs, ${redelivered} redelivered, all done ${recoveredS.toFixed(1)} s after the crash`);
      healthy.proc.kill('SIGTERM');
      await exited(healthy.proc);
    }
    const jobs = await waitAll(stack, all);
    await expectTwoEach(stack, all);
    const ledger = await ledgerTotals(stack);
    expect(ledger.jobs).toBe(all.length);
    expect(ledger.gpuMicros).toBe(jobs.reduce((s, j) => s + micros(j.usage.gpu_seconds), 0));
    // Every event arrives (at least once, with one stable id per job).
    await expect.poll(() => new Set(hooks.ids).size, { timeout: 20_000 }).toBe(all.length);
    console.log(`[faults] ${point}: ${all.length} jobs, ${hooks.ids.length} webhook POSTs for ${new Set(hooks.ids).size} events`);
  });
});
