import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { loadPipeline, REPO_ROOT } from '@clickvid/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UnitReport } from './engine-protocol.js';
import { runPipeline } from './pipeline/run-pipeline.js';
import { PipelineRunner } from './pipeline/runner.js';
import { RenderCanceled, ScheduledEngine, type PipelineRenderRequest } from './scheduled-engine.js';

const MODELS = join(REPO_ROOT, 'models');
const hash = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A reference runner (the loop the scheduler is held to) and a scheduled engine for one model, and its render requests. */
function pipelineBed(model: string) {
  const bed = {
    reference: undefined as unknown as PipelineRunner,
    engine: undefined as unknown as ScheduledEngine,
    units: [] as UnitReport[],
    req: (quality: PipelineRenderRequest['quality'], prompt: string, seed: number): PipelineRenderRequest => ({
      lane: quality === 'draft' ? 'draft' : 'final', modelsDir: MODELS, model, quality, prompt, seed,
    }),
  };
  beforeAll(async () => {
    bed.reference = await PipelineRunner.load(loadPipeline(MODELS, model));
    // Every call takes as many rows as share its key, so interleaving is exercised on any machine.
    bed.engine = new ScheduledEngine({ resolveVariant: () => undefined, rowsByCost: false, onUnit: (u) => bed.units.push(u) });
  });
  afterAll(async () => {
    await bed.engine.close();
    await bed.reference.close();
  });
  return bed;
}

/** The step scheduler driving a pipeline-form model (the random-weight fixture in optimum's layout). */
describe('ScheduledEngine on a pipeline model: encode, denoiser steps and decode chunks as units', () => {
  const bed = pipelineBed('pipeline-fixture');
  const { units, req } = bed;
  const alone = async (r: PipelineRenderRequest) => hash((await runPipeline(bed.reference, { prompt: r.prompt, seed: r.seed, quality: r.quality })).video);

  it('gives each job the bytes of the reference loop, alone or sharing steps with jobs at other timesteps', async () => {
    const jobs = [req('final', 'a red circle moving left', 1), req('final', 'two blue squares bouncing', 2), req('final', 'a green triangle spinning', 3)];
    units.length = 0;
    // The first job starts alone; the others join once it has taken a few steps.
    let joined: Promise<unknown>[] | null = null;
    const first = bed.engine.renderPipeline(jobs[0]!, { onProgress: (f) => f > 0.2 && (joined ??= jobs.slice(1).map((j) => bed.engine.renderPipeline(j))) });
    const shares = [await first, ...((await Promise.all(await waitFor(() => joined))) as Awaited<typeof first>[])];
    const got = shares.map((s) => hash(s.output));
    const want = await Promise.all(jobs.map(alone));
    expect(got.map((g, i) => g === want[i])).toEqual([true, true, true]);
    const steps = units.filter((u) => u.key.includes('|step|'));
    // Rows at different timesteps shared calls, and every unit is one stage: encode, a step or a decode chunk.
    expect(Math.max(...steps.map((u) => u.rows))).toBeGreaterThan(1);
    expect(units.every((u) => /\|(encode|step|decode)\b/.test(u.key))).toBe(true);
    expect(units.filter((u) => u.key.includes('|decode|')).length).toBeGreaterThanOrEqual(1);
  });

  it('refine on promote: a final from a draft\'s latents matches the reference refine, and differs from one from the seed', async () => {
    const draftReq = req('draft', 'a red square moving up', 31);
    const draft = await bed.engine.renderPipeline(draftReq);
    const ref = await runPipeline(bed.reference, { prompt: draftReq.prompt, seed: draftReq.seed, quality: 'draft' });
    // The draft's final latents come back with its frames, exactly the reference loop's.
    expect(hash(new Uint8Array(draft.latents!.buffer))).toBe(hash(new Uint8Array(ref.latents!.buffer)));
    const tier = bed.reference.pipeline.tiers.draft;
    const start = { latents: draft.latents!, frames: tier.frames, width: tier.width, height: tier.height };
    const promoted = await bed.engine.renderPipeline({ ...req('final', draftReq.prompt, 31), start });
    const fromSeed = await bed.engine.renderPipeline(req('final', draftReq.prompt, 31));
    const want = await runPipeline(bed.reference, { prompt: draftReq.prompt, seed: 31, quality: 'final', start });
    expect(hash(promoted.output)).toBe(hash(want.video));
    expect(hash(promoted.output)).not.toBe(hash(fromSeed.output));
    // The refine takes the manifest's steps (fewer than the tier's), each a unit of its own.
    expect(bed.reference.pipeline.refine).toMatchObject({ steps: 6, startSigma: 0.6 });
  });

  it('caches the text embedding: the same prompt again runs no encode unit', async () => {
    units.length = 0;
    await bed.engine.renderPipeline(req('draft', 'a white square moving up', 9));
    expect(units.filter((u) => u.key.endsWith('|encode'))).toHaveLength(1);
    units.length = 0;
    const again = await bed.engine.renderPipeline(req('draft', 'a white square moving up', 10));
    expect(units.filter((u) => u.key.endsWith('|encode'))).toHaveLength(0);
    expect(hash(again.output)).toBe(await alone(req('draft', 'a white square moving up', 10)));
  });

  it('a draft goes first at the next boundary; a canceled final leaves at one', async () => {
    units.length = 0;
    const ac = new AbortController();
    const final = bed.engine.renderPipeline(req('final', 'a yellow circle moving right', 21), { signal: ac.signal });
    await waitFor(() => (units.length > 1 ? true : null));
    const draft = await bed.engine.renderPipeline(req('draft', 'a black triangle moving down', 22));
    expect(draft.waitSeconds).toBeLessThan(1);
    const before = units.length;
    ac.abort();
    await expect(final).rejects.toBeInstanceOf(RenderCanceled);
    expect(units.length - before).toBeLessThanOrEqual(1);
  });
});

/** Our own model in pipeline form: a scene latent [83, 1, 1, 1] per clip, rendered at frame times by a decoder variant per tier. */
describe('ScheduledEngine on clickvid-shapes 3.0.0: a trained denoiser over a scene latent', () => {
  const bed = pipelineBed('clickvid-shapes-3.0');
  const { units, req } = bed;

  it('renders what the reference loop renders, its decode in pieces of video frames, alone or sharing calls', async () => {
    units.length = 0;
    // Finals of 24 frames (1 s at the tier's 24 fps) keep the test short; the pieces are the same.
    const jobs = [req('final', 'a red circle moving left on a black background', 1), req('final', 'two blue squares bouncing on a white background', 2)].map((j) => ({ ...j, frames: 24 }));
    const shares = await Promise.all(jobs.map((j) => bed.engine.renderPipeline(j)));
    const want = await Promise.all(jobs.map(async (j) => hash((await runPipeline(bed.reference, { prompt: j.prompt, seed: j.seed, quality: j.quality, frames: 24 })).video)));
    expect(shares.map((s) => hash(s.output))).toEqual(want);
    const decodes = units.filter((u) => u.key.includes('|decode|'));
    // 256-px frames in pieces of 4 (the unit budget at the final's measured cost): no one call renders a whole final.
    expect(decodes.length).toBeGreaterThanOrEqual(24 / 4);
    expect(decodes.every((u) => u.key.includes('|fp32-256|'))).toBe(true);
  });

  it('a clip of frames off the quantum decodes alike in pieces and whole: every call is padded to the quantum', async () => {
    // FP32 at 256 px gives a frame other bytes in a call of 1, 2, 3 or 5 frames than in one of 4;
    // 17 frames in pieces of 3, 5, 1, 2 and 6 must still equal one call of 17.
    const clip = bed.reference.clip('final', 17);
    const bounds = [0, 3, 8, 9, 11, 17];
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const rows = [{ latents: bed.reference.initialLatents(seed, clip) }];
      const [whole] = await bed.reference.decode('fp32-256', clip, rows);
      const pieces = [];
      for (let i = 0; i + 1 < bounds.length; i++) pieces.push(...(await bed.reference.decode('fp32-256', clip, rows, bounds[i], bounds[i + 1])));
      expect(whole!.length).toBe(17 * 256 * 256 * 3);
      expect(hash(Buffer.concat(pieces)), `seed ${seed}`).toBe(hash(whole!));
    }
  });

  it('the denoiser uses its noisy input: the seed picks the scene, the prompt fixes what is in it', async () => {
    const clip = bed.reference.clip('draft');
    const [embedding] = await bed.reference.encode(['a red circle moving right on a black background']);
    const sample = async (seed: number) => {
      const tier = bed.reference.pipeline.tiers.draft;
      let latents = bed.reference.initialLatents(seed, clip);
      const state = bed.reference.schedule(clip, tier.steps);
      while (state.index < state.timesteps.length) latents = (await bed.reference.step(tier.variants.denoiser!, clip, [{ latents, embedding: embedding!, state, guidanceScale: 1 }]))[0]!;
      return latents;
    };
    const [a, b] = [await sample(5), await sample(6)];
    const attributes = (x: Float32Array) => Array.from(x.subarray(0, 75));
    const seedPart = (x: Float32Array) => Array.from(x.subarray(75));
    // Attribute posteriors: the text's reading, the same for every seed; seed variation: different, inside [-1, 1].
    attributes(a).forEach((v, i) => expect(v).toBeCloseTo(attributes(b)[i]!, 6));
    expect(seedPart(a)).not.toEqual(seedPart(b));
    expect([...seedPart(a), ...seedPart(b)].every((v) => v >= -1 && v <= 1)).toBe(true);
    expect(Math.max(...seedPart(a).map((v, i) => Math.abs(v - seedPart(b)[i]!)))).toBeGreaterThan(0.1);
  });

  it('refine on promote: the final starts from the draft\'s latents and keeps its scene; from the seed it does not', async () => {
    const draftReq = req('draft', 'three green triangles moving up on a gray background', 41);
    const draft = await bed.engine.renderPipeline(draftReq);
    const tier = bed.reference.pipeline.tiers.draft;
    const start = { latents: draft.latents!, frames: tier.frames, width: tier.width, height: tier.height };
    const promoted = await runPipeline(bed.reference, { prompt: draftReq.prompt, seed: 41, quality: 'final', start });
    const fromSeed = await runPipeline(bed.reference, { prompt: draftReq.prompt, seed: 41, quality: 'final' });
    const viaEngine = await bed.engine.renderPipeline({ ...req('final', draftReq.prompt, 41), start });
    expect(hash(viaEngine.output)).toBe(hash(promoted.video));
    const gap = (x: Float32Array) => Math.max(...Array.from(x.subarray(75), (v, i) => Math.abs(v - draft.latents![75 + i]!)));
    expect(gap(promoted.latents!)).toBeLessThan(0.05);
    expect(gap(fromSeed.latents!)).toBeGreaterThan(0.1);
  });
});

async function waitFor<T>(get: () => T | null): Promise<T> {
  for (;;) {
    const v = get();
    if (v !== null) return v;
    await new Promise((r) => setTimeout(r, 2));
  }
}
