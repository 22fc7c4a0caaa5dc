import { describe, expect, it } from 'vitest';
import { Batcher, batchKey, type BatchLane, type LaneBatching } from './batcher.js';

/**
 * A fake engine that records each batch and takes `ms` per run. With `hold`, the first run
 * also waits until release() is called, so a test decides exactly what arrives while the
 * engine is busy (no race with a loaded machine's timers).
 */
function fakeEngine(ms = 20, opts: { hold?: boolean } = {}) {
  const batches: { key: string; inputs: string[]; at: number }[] = [];
  let running = 0;
  let maxConcurrent = 0;
  let release: () => void = () => undefined;
  const gate = opts.hold ? new Promise<void>((r) => (release = r)) : Promise.resolve();
  const t0 = Date.now();
  const run = async (key: string, inputs: string[]) => {
    running++;
    maxConcurrent = Math.max(maxConcurrent, running);
    batches.push({ key, inputs: [...inputs], at: Date.now() - t0 });
    if (batches.length === 1) await gate;
    await new Promise((r) => setTimeout(r, ms));
    running--;
    return { outputs: inputs.map((i) => `out:${i}`), seconds: ms / 1000 };
  };
  return { run, batches, maxConcurrent: () => maxConcurrent, release: () => release() };
}

const tick = () => new Promise((r) => setImmediate(r));

const lanes = (draft: Partial<LaneBatching> = {}, final: Partial<LaneBatching> = {}): Record<BatchLane, LaneBatching> => ({
  draft: { maxBatch: 8, windowMs: 150, ...draft },
  final: { maxBatch: 4, windowMs: 2000, ...final },
});

describe('Batcher', () => {
  it('runs a lone job at once on an idle engine: no window tax', async () => {
    const eng = fakeEngine(5);
    const b = new Batcher({ run: eng.run, lanes: lanes({ windowMs: 5000 }) });
    const t = performance.now();
    const share = await b.submit({ lane: 'draft', key: 'k', input: 'a' });
    expect(performance.now() - t).toBeLessThan(200); // far below the 5 s window
    expect(share).toMatchObject({ output: 'out:a', batchSize: 1, batchSeconds: 0.005, inferenceSeconds: 0.005 });
    expect(share.waitSeconds).toBeLessThan(0.1);
  });

  it('batches jobs submitted together, and jobs that arrive while the engine is busy', async () => {
    const eng = fakeEngine(5, { hold: true });
    const b = new Batcher({ run: eng.run, lanes: lanes() });
    // One runs alone at once; the next five arrive during its run and share the next batch.
    const lone = b.submit({ lane: 'draft', key: 'k', input: 'x' });
    await tick();
    await tick();
    expect(eng.batches.map((x) => x.inputs)).toEqual([['x']]);
    const later = ['p', 'q', 'r', 's', 't'].map((input) => b.submit({ lane: 'draft', key: 'k', input }));
    expect(b.pending).toBe(5);
    eng.release();
    expect((await lone).batchSize).toBe(1);
    const shares = await Promise.all(later);
    expect(shares.map((s) => s.batchSize)).toEqual([5, 5, 5, 5, 5]);
    expect(shares[0]!.inferenceSeconds).toBeCloseTo(0.005 / 5, 6);
    expect(shares.map((s) => s.output)).toEqual(['out:p', 'out:q', 'out:r', 'out:s', 'out:t']);
    expect(eng.maxConcurrent()).toBe(1);
    // Submitted in the same turn on an idle engine: one batch.
    const together = await Promise.all(['a', 'b', 'c'].map((input) => b.submit({ lane: 'draft', key: 'k', input })));
    expect(together.map((s) => s.batchSize)).toEqual([3, 3, 3]);
  });

  it('never mixes batch keys and caps a batch at the smaller of lane and tier max', async () => {
    const eng = fakeEngine(10);
    const b = new Batcher({ run: eng.run, lanes: lanes({ maxBatch: 8 }) });
    const k1 = batchKey('int8-128', 128, 128, 16);
    const k2 = batchKey('int8-128', 128, 128, 8);
    await Promise.all([
      ...Array.from({ length: 7 }, (_, i) => b.submit({ lane: 'draft', key: k1, input: `a${i}`, maxBatch: 3 })),
      ...Array.from({ length: 2 }, (_, i) => b.submit({ lane: 'draft', key: k2, input: `b${i}` })),
    ]);
    for (const batch of eng.batches) {
      expect(new Set(batch.inputs.map((i) => i[0])).size).toBe(1);
      expect(batch.inputs.length).toBeLessThanOrEqual(batch.key === k1 ? 3 : 8);
    }
    expect(eng.batches.filter((x) => x.key === k1).map((x) => x.inputs.length)).toEqual([3, 3, 1]);
    expect(eng.batches.filter((x) => x.key === k2).map((x) => x.inputs.length)).toEqual([2]);
  });

  it('maxBatch 1 turns batching off', async () => {
    const eng = fakeEngine(5);
    const b = new Batcher({ run: eng.run, lanes: lanes({ maxBatch: 1 }) });
    const shares = await Promise.all(['a', 'b', 'c', 'd'].map((input) => b.submit({ lane: 'draft', key: 'k', input })));
    expect(shares.map((s) => s.batchSize)).toEqual([1, 1, 1, 1]);
    expect(eng.batches.map((x) => x.inputs)).toEqual([['a'], ['b'], ['c'], ['d']]);
  });

  it('runs a pending draft batch before a pending final batch, whatever the arrival order', async () => {
    const eng = fakeEngine(5, { hold: true });
    const b = new Batcher({ run: eng.run, lanes: lanes() });
    const busy = b.submit({ lane: 'final', key: 'f', input: 'f0' }); // occupies the engine
    await tick();
    const finals = ['f1', 'f2'].map((input) => b.submit({ lane: 'final', key: 'f', input }));
    await tick();
    const drafts = ['d1', 'd2'].map((input) => b.submit({ lane: 'draft', key: 'd', input }));
    eng.release();
    await Promise.all([busy, ...finals, ...drafts]);
    expect(eng.batches.map((x) => x.inputs)).toEqual([['f0'], ['d1', 'd2'], ['f1', 'f2']]);
  });

  it('sends a full batch out early, ahead of an older partial one of the same lane', async () => {
    const eng = fakeEngine(5, { hold: true });
    const b = new Batcher({ run: eng.run, lanes: lanes({}, { maxBatch: 2, windowMs: 60_000 }) });
    const busy = b.submit({ lane: 'final', key: 'x', input: 'x0' });
    await tick();
    const older = b.submit({ lane: 'final', key: 'a', input: 'a1' });
    await tick();
    const full = ['b1', 'b2'].map((input) => b.submit({ lane: 'final', key: 'b', input }));
    eng.release();
    await Promise.all([busy, older, ...full]);
    expect(eng.batches.map((x) => x.inputs)).toEqual([['x0'], ['b1', 'b2'], ['a1']]);
  });

  it('lets an overdue partial batch (open past its window) go before a younger full one', async () => {
    const eng = fakeEngine(5, { hold: true });
    const b = new Batcher({ run: eng.run, lanes: lanes({}, { maxBatch: 2, windowMs: 20 }) });
    const busy = b.submit({ lane: 'final', key: 'x', input: 'x0' });
    await tick();
    const older = b.submit({ lane: 'final', key: 'a', input: 'a1' });
    await new Promise((r) => setTimeout(r, 40)); // a1's batch is now past its 20 ms window
    const full = ['b1', 'b2'].map((input) => b.submit({ lane: 'final', key: 'b', input }));
    eng.release();
    await Promise.all([busy, older, ...full]);
    expect(eng.batches.map((x) => x.inputs)).toEqual([['x0'], ['a1'], ['b1', 'b2']]);
  });

  it('rejects every job of a failed batch and carries on with the next', async () => {
    let calls = 0;
    const b = new Batcher<string, string>({
      lanes: lanes(),
      run: async (_k, inputs) => {
        calls++;
        if (calls === 1) throw new Error('boom');
        return { outputs: inputs, seconds: 0.001 };
      },
    });
    const bad = await Promise.allSettled(['a', 'b'].map((input) => b.submit({ lane: 'draft', key: 'k', input })));
    expect(bad.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await expect(b.submit({ lane: 'draft', key: 'k', input: 'c' })).resolves.toMatchObject({ output: 'c', batchSize: 1 });
  });

  it('close() waits for pending batches and refuses new jobs', async () => {
    const eng = fakeEngine(20);
    const b = new Batcher({ run: eng.run, lanes: lanes() });
    const jobs = ['a', 'b'].map((input) => b.submit({ lane: 'draft', key: 'k', input }));
    await b.close();
    expect(eng.batches.length).toBe(1);
    await expect(Promise.all(jobs)).resolves.toHaveLength(2);
    await expect(b.submit({ lane: 'draft', key: 'k', input: 'z' })).rejects.toThrow(/closed/);
  });

  it('refuses a bad lane configuration', () => {
    expect(() => new Batcher({ run: fakeEngine().run, lanes: lanes({ maxBatch: 0 }) })).toThrow(RangeError);
  });
});
