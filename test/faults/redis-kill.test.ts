/**
 * Redis SIGKILLed with an AOF fsynced every second, down 2 s, restarted on the same port:
 * every job the API acknowledged (202) survives and succeeds once. A Redis process death
 * loses nothing acknowledged (the AOF is written before the reply); a host crash could lose
 * up to about a second of writes with everysec.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../harness.js';
import { exited, FAULT_ENV, ledgerTotals, sleep, submitDrafts, waitAll } from './lib.js';

describe('Redis SIGKILL, down 2 s (AOF everysec)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: FAULT_ENV, persist: true });
  });
  afterAll(async () => stack?.stop());

  it('0 acknowledged jobs lost; each succeeds once and is metered once', async () => {
    const redis = stack.redis as Awaited<ReturnType<typeof import('../harness.js').startPersistentRedis>>;
    const ids = await submitDrafts(stack, 12, { seed0: 11_000 });
    redis.proc.kill('SIGKILL');
    await exited(redis.proc);
    await sleep(2000);
    await redis.restart();
    const t0 = Date.now();
    const jobs = await waitAll(stack, ids, 120_000);
    console.log(`[faults] redis kill: ${ids.length} acknowledged, ${jobs.filter((j) => j.status === 'succeeded').length} succeeded, done ${((Date.now() - t0) / 1000).toFixed(1)} s after the restart`);
    expect(jobs.map((j) => (j.status === 'succeeded' ? j.status : `${j.status}: ${JSON.stringify(j.error)}`))).toEqual(ids.map(() => 'succeeded'));
    expect((await ledgerTotals(stack)).jobs).toBe(ids.length);
  });
});
