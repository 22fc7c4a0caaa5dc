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

/** The step scheduler driving a pipeline-form model (the random-weight fixture in optimum's layout). */
describe('ScheduledEngine on a pipeline model: encode, denoiser steps and decode chunks as units', () => {
  let reference: PipelineRunner;
  let engine: ScheduledEngine;
  const units: UnitReport[] = [];
  const req = (quality: PipelineRenderRequest['quality'], prompt: string, seed: number): PipelineRenderRequest => ({
    lane: quality === 'draft' ? 'draft' : 'final', modelsDir: MODELS, model: 'pipeline-fixture', quality, prompt, seed,
  });
  const alone = async (r: PipelineRenderRequest) => hash((await runPipeline(reference, { prompt: r.prompt, seed: r.seed, quality: r.quality })).video);

  beforeAll(async () => {
    reference = await PipelineRunner.load(loadPipeline(MODELS, 'pipeline-fixture'));
    // Every call takes as many rows as share its key, so interleaving is exercised on any machine.
    engine = new ScheduledEngine({ resolveVariant: () => undefined, rowsByCost: false, onUnit: (u) => units.push(u) });
  });
  afterAll(async () => {
    await engine.close();
    await reference.close();
  });

  it('gives each job the bytes of the reference loop, alone or sharing steps with jobs at other timesteps', async () => {
    const jobs = [req('final', 'a red circle moving left', 1), req('final', 'two blue squares bouncing', 2), req('final', 'a green triangle spinning', 3)];
    units.length = 0;
    // The first job starts alone; the others join once it has taken a few steps.
    let joined: Promise<unknown>[] | null = null;
    const first = engine.renderPipeline(jobs[0]!, { onProgress: (f) => f > 0.2 && (joined ??= jobs.slice(1).map((j) => engine.renderPipeline(j))) });
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
    const draft = await engine.renderPipeline(draftReq);
    const ref = await runPipeline(reference, { prompt: draftReq.prompt, seed: draftReq.seed, quality: 'draft' });
    // The draft's final latents come back with its frames, exactly the reference loop's.
    expect(hash(new Uint8Array(draft.latents!.buffer))).toBe(hash(new Uint8Array(ref.latents!.buffer)));
    const tier = reference.pipeline.tiers.draft;
    const start = { latents: draft.latents!, frames: tier.frames, width: tier.width, height: tier.height };
    const promoted = await engine.renderPipeline({ ...req('final', draftReq.prompt, 31), start });
    const fromSeed = await engine.renderPipeline(req('final', draftReq.prompt, 31));
    const want = await runPipeline(reference, { prompt: draftReq.prompt, seed: 31, quality: 'final', start });
    expect(hash(promoted.output)).toBe(hash(want.video));
    expect(hash(promoted.output)).not.toBe(hash(fromSeed.output));
    // The refine takes the manifest's steps (fewer than the tier's), each a unit of its own.
    expect(reference.pipeline.refine).toMatchObject({ steps: 6, startSigma: 0.6 });
  });

  it('caches the text embedding: the same prompt again runs no encode unit', async () => {
    units.length = 0;
    await engine.renderPipeline(req('draft', 'a white square moving up', 9));
    expect(units.filter((u) => u.key.endsWith('|encode'))).toHaveLength(1);
    units.length = 0;
    const again = await engine.renderPipeline(req('draft', 'a white square moving up', 10));
    expect(units.filter((u) => u.key.endsWith('|encode'))).toHaveLength(0);
    expect(hash(again.output)).toBe(await alone(req('draft', 'a white square moving up', 10)));
  });

  it('a draft goes first at the next boundary; a canceled final leaves at one', async () => {
    units.length = 0;
    const ac = new AbortController();
    const final = engine.renderPipeline(req('final', 'a yellow circle moving right', 21), { signal: ac.signal });
    await waitFor(() => (units.length > 1 ? true : null));
    const draft = await engine.renderPipeline(req('draft', 'a black triangle moving down', 22));
    expect(draft.waitSeconds).toBeLessThan(1);
    const before = units.length;
    ac.abort();
    await expect(final).rejects.toBeInstanceOf(RenderCanceled);
    expect(units.length - before).toBeLessThanOrEqual(1);
  });
});

async function waitFor<T>(get: () => T | null): Promise<T> {
  for (;;) {
    const v = get();
    if (v !== null) return v;
    await new Promise((r) => setTimeout(r, 2));
  }
}
