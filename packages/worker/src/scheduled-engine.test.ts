import { ModelRegistry } from '@clickvid/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceEngine } from './engine.js';
import { testModel } from './internal/testing.testkit.js';
import { RenderCanceled, ScheduledEngine, type RenderRequest } from './scheduled-engine.js';
import type { UnitReport } from './engine-protocol.js';

const model = testModel();

describe('ScheduledEngine: one engine thread, preemptive units', () => {
  let registry: ModelRegistry;
  let engine: ScheduledEngine;
  let direct: InferenceEngine;
  /** Rows of different jobs always share calls here (no cost cap), so batching is exercised on any machine. */
  let batching: ScheduledEngine;
  const batchingUnits: UnitReport[] = [];
  const units: UnitReport[] = [];
  const finalVariant = () => registry.tier('final').variant;
  const draftVariant = () => registry.tier('draft').variant;
  const req = (lane: 'draft' | 'final', prompt: string, seed: number, frames: number): RenderRequest => ({
    lane,
    variant: lane === 'draft' ? draftVariant() : finalVariant(),
    tokens: registry.encodePrompt(prompt).tokens,
    noise: registry.noise(seed),
    times: registry.times(frames),
  });
  /** Today's output: the whole clip in one session.run on the main thread. */
  const whole = async (r: RenderRequest) => Buffer.from((await direct.run(r.variant, [r])).videos[0]!);

  beforeAll(() => {
    registry = ModelRegistry.load(model.dir, model.name);
    const resolveVariant = (name: string) => {
      const v = registry.variant(name);
      const q = (['final', 'standard', 'draft'] as const).find((t) => registry.tier(t).variant === name) ?? 'final';
      const tier = registry.tier(q);
      return { ...v, msPerFrame: (tier.ms_per_video['1'] ?? 50) / Math.round(tier.duration_s * tier.fps) };
    };
    engine = new ScheduledEngine({ resolveVariant, onUnit: (u) => units.push(u) });
    batching = new ScheduledEngine({ resolveVariant, rowsByCost: false, onUnit: (u) => batchingUnits.push(u) });
    direct = new InferenceEngine({ resolveVariant: (n) => registry.variant(n) });
  });
  afterAll(async () => {
    await engine.close();
    await batching.close();
    await direct.close();
  });

  it('cuts a final into units of a few frames and gives the bytes of one whole-clip call', async () => {
    const r = req('final', 'two red circles moving right on a blue background', 11, 72);
    units.length = 0;
    const progress: number[] = [];
    const share = await engine.render(r, { onProgress: (f) => progress.push(f) });
    const chunk = engine.chunkFrames(r.variant);
    expect(chunk % 4).toBe(0);
    expect(share.units).toBe(Math.ceil(72 / chunk));
    expect(units.every((u) => u.frames === chunk)).toBe(true);
    // Progress after every unit but the last, rising.
    expect(progress).toHaveLength(share.units - 1);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(Buffer.from(share.output).equals(await whole(r))).toBe(true);
    expect(share.inferenceSeconds).toBeGreaterThan(0);
  }, 240_000);

  it('same bytes alone, batched, and batched with a job that joined mid-way; a padded tail too', async () => {
    // Short clips (a 1 s final): the property is per call, and a loaded machine must still finish in time.
    const a = req('final', 'a yellow triangle spinning on a black background', 21, 24);
    const b = req('final', 'three green squares bouncing on a white background', 22, 24);
    const c = req('final', 'a purple circle growing on an orange background', 23, 22); // 22: the last piece is padded
    const aloneA = Buffer.from((await engine.render(a)).output);
    const aloneC = Buffer.from((await engine.render(c)).output);
    expect(aloneA.equals(await whole(a))).toBe(true);
    // Together from the start, and c joining once a is under way (rows at other frame offsets share calls).
    let joined: Promise<{ output: Uint8Array }> | null = null;
    const [ra, rb] = await Promise.all([
      batching.render(a, { onProgress: () => (joined ??= batching.render(c)) }),
      batching.render(b),
    ]);
    expect(Buffer.from(ra.output).equals(aloneA)).toBe(true);
    expect(Buffer.from(rb.output).equals(await whole(b))).toBe(true);
    expect(Buffer.from((await joined!).output).equals(aloneC)).toBe(true);
    // They really shared calls: three rows at once, once c had joined.
    expect(Math.max(...batchingUnits.map((u) => u.rows))).toBe(3);
  }, 240_000);

  it('a draft submitted while finals run goes at the next unit boundary', async () => {
    units.length = 0;
    const finals = [31, 32, 33].map((s) => engine.render(req('final', 'a red square moving up on a gray background', s, 36)));
    let draftDone = -1;
    let finalsDone = 0;
    for (const f of finals) void f.then(() => finalsDone++);
    // Submit once the first final unit ran.
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (units.length > 0) {
          clearInterval(t);
          resolve();
        }
      }, 1);
    });
    const t0 = performance.now();
    const draft = await engine.render(req('draft', 'a blue circle moving left on a white background', 34, 16));
    const waited = performance.now() - t0;
    draftDone = finalsDone;
    await Promise.all(finals);
    expect(draftDone).toBe(0);
    // It waited for at most the unit in flight (and then its own), not for a whole final.
    const finalUnit = Math.max(...units.filter((u) => u.lane === 'final').map((u) => u.seconds * 1000));
    expect(draft.waitSeconds * 1000).toBeLessThanOrEqual(finalUnit + 50);
    expect(waited).toBeLessThan(units.filter((u) => u.lane === 'final').reduce((s, u) => s + u.seconds * 1000, 0));
  }, 240_000);

  it('cancel: the job leaves at the next boundary, at most one more unit runs for it', async () => {
    const ac = new AbortController();
    let after = 0;
    let aborted = false;
    const p = engine.render(req('final', 'two cyan triangles bouncing on a black background', 41, 72), {
      signal: ac.signal,
      onProgress: () => {
        if (aborted) after++;
        else {
          aborted = true;
          ac.abort();
        }
      },
    });
    await expect(p).rejects.toBeInstanceOf(RenderCanceled);
    expect(after).toBeLessThanOrEqual(1);
    // The engine is still good for the next job.
    const d = await engine.render(req('draft', 'a red circle', 42, 16));
    expect(d.output.length).toBe(16 * 128 * 128 * 3);
  });

  it('an unknown variant or a bad file fails the job, not the engine', async () => {
    await expect(engine.render({ ...req('draft', 'a red circle', 1, 16), variant: 'nope' })).rejects.toMatchObject({ code: 'model_unavailable', retryable: false });
  });
});
