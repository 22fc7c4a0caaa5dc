import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPipeline, ModelRegistry, REPO_ROOT } from '@clickvid/core';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceEngine } from '../engine.js';
import { testModel } from '../internal/testing.testkit.js';
import { runPipeline } from './run-pipeline.js';
import { PipelineRunner, type ClipShape, type StepRow } from './runner.js';

const MODELS = join(REPO_ROOT, 'models');
const hash = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('PipelineRunner on the random-weight fixture', () => {
  let runner: PipelineRunner;
  beforeAll(async () => {
    runner = await PipelineRunner.load(loadPipeline(MODELS, 'pipeline-fixture'));
  });
  afterAll(() => runner.close());

  /** A job as the step scheduler holds it: its row and what it needs for the next step. */
  async function job(prompt: string, seed: number, clip: ClipShape, steps: number, guidanceScale: number): Promise<StepRow> {
    const [embedding] = await runner.encode([prompt]);
    return { latents: runner.initialLatents(seed, clip), embedding: embedding!, state: runner.schedule(clip, steps), guidanceScale };
  }

  it('renders each tier at its size, the same bytes for the same prompt and seed, others for another seed', async () => {
    for (const quality of ['draft', 'final'] as const) {
      const t = runner.pipeline.tiers[quality];
      const a = await runPipeline(runner, { prompt: 'a red circle moving left', seed: 7, quality });
      expect(a).toMatchObject({ frames: t.frames, width: t.width, height: t.height });
      expect(a.video.length).toBe(t.frames * t.width * t.height * 3);
      const again = await runPipeline(runner, { prompt: 'a red circle moving left', seed: 7, quality });
      expect(hash(again.video)).toBe(hash(a.video));
      const other = await runPipeline(runner, { prompt: 'a red circle moving left', seed: 8, quality });
      expect(hash(other.video)).not.toBe(hash(a.video));
    }
  });

  // Draft: the INT8 denoiser (static scales), unguided. Standard: FP32, guided (scale 3), so each
  // job brings an unconditional row to every call.
  it.each(['draft', 'standard'] as const)('gives a %s job the same video alone, batched, and batched with rows at other timesteps', async (quality) => {
    const tier = runner.pipeline.tiers[quality];
    const clip = runner.clip(quality);
    const variant = tier.variants.denoiser!;
    const prompts = ['a red circle moving left', 'two blue squares bouncing', 'a green triangle spinning'];
    const alone = await Promise.all(prompts.map(async (prompt, i) => hash((await runPipeline(runner, { prompt, seed: 100 + i, quality })).video)));

    const rows = await Promise.all(prompts.map((p, i) => job(p, 100 + i, clip, tier.steps, tier.guidanceScale)));
    // Job 0 runs 3 steps alone; then all three share every call, job 0 three steps ahead of the others.
    for (let s = 0; s < 3; s++) rows[0]!.latents = (await runner.step(variant, clip, [rows[0]!]))[0]!;
    expect(rows.map((r) => r.state.index)).toEqual([3, 0, 0]);
    while (rows.some((r) => r.state.index < tier.steps)) {
      const live = rows.filter((r) => r.state.index < tier.steps);
      const next = await runner.step(variant, clip, live);
      live.forEach((r, i) => (r.latents = next[i]!));
    }
    // Decoded together, in single-latent-frame chunks.
    const chunks: Uint8Array[][] = [];
    for (let f = 0; f < clip.decodeFrames; f++) chunks.push(await runner.decode(tier.variants.decoder, clip, rows.map((r) => ({ latents: r.latents })), f, f + 1));
    const batched = rows.map((_, i) => hash(Buffer.concat(chunks.map((c) => c[i]!))));
    expect(batched).toEqual(alone);
  });

  it('leaves the unconditional row out at guidance scale 1, and guidance changes the result', async () => {
    const clip = runner.clip('draft');
    const variant = runner.pipeline.tiers.draft.variants.denoiser!;
    const batchSizes: number[] = [];
    // Count the rows of each denoiser call, and keep the timesteps it was fed.
    const timesteps: number[][] = [];
    const count = (s: ort.InferenceSession) => {
      const real = s.run.bind(s);
      s.run = (async (feeds: Record<string, ort.Tensor>, ...rest: []) => {
        batchSizes.push(Object.values(feeds)[0]!.dims[0]!);
        timesteps.push(Array.from(feeds['timestep']!.data as Float32Array));
        return real(feeds, ...rest);
      }) as typeof s.run;
      return () => (s.run = real as typeof s.run);
    };
    const undo = count((runner as any).sessions.denoisers.get(variant));
    try {
      const plain = await job('a red circle', 1, clip, 4, 1);
      const guided = await job('a red circle', 1, clip, 4, 3);
      const [a] = await runner.step(variant, clip, [plain]);
      const [b] = await runner.step(variant, clip, [guided]);
      const [c, d] = await runner.step(variant, clip, [plain, guided]);
      expect(batchSizes).toEqual([1, 2, 3]);
      // Per row, σ·1000 at the row's own step (shift 3 over 4 steps: 1000, then 858.2…).
      expect(timesteps.map((t) => t.map(Math.round))).toEqual([[1000], [1000, 1000], [858, 858, 858]]);
      expect(hash(new Uint8Array(a!.buffer))).not.toBe(hash(new Uint8Array(b!.buffer)));
      expect([c, d].every((x) => x!.length === a!.length)).toBe(true);
    } finally {
      undo();
    }
  });

  it('shares a timestep of shape [1] across the call only among rows at the same step', async () => {
    // The fixture's manifest with the timestep declared shared: the same files, another contract.
    const dir = mkdtempSync(join(tmpdir(), 'cv-shared-t-'));
    cpSync(join(MODELS, 'pipeline-fixture'), join(dir, 'fixture'), { recursive: true });
    const manifestPath = join(dir, 'fixture', 'manifest.json');
    const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
    m.components.denoiser.inputs.find((t: { role: string }) => t.role === 'timestep').shape = [1];
    writeFileSync(manifestPath, JSON.stringify(m));
    const shared = await PipelineRunner.load(loadPipeline(dir, 'fixture'), { qualities: ['draft'] });
    try {
      const clip = shared.clip('draft');
      const variant = shared.pipeline.tiers.draft.variants.denoiser!;
      const rows = await Promise.all([1, 2].map((seed) => job('a red circle', seed, clip, 4, 1)));
      const together = await shared.step(variant, clip, rows.map((r) => ({ ...r, state: { ...r.state } })));
      const perRow = await runner.step(variant, clip, rows.map((r) => ({ ...r, state: { ...r.state } })));
      expect(together.map((x) => hash(new Uint8Array(x.buffer)))).toEqual(perRow.map((x) => hash(new Uint8Array(x.buffer))));
      rows[0]!.state.index = 1;
      await expect(shared.step(variant, clip, rows)).rejects.toThrow(/timestep is shared by the call/);
    } finally {
      await shared.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('decodes no more latent frames per call than the manifest allows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cv-chunk-'));
    cpSync(join(MODELS, 'pipeline-fixture'), join(dir, 'fixture'), { recursive: true });
    const manifestPath = join(dir, 'fixture', 'manifest.json');
    const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
    m.components.decoder.chunk.max_latent_frames = 1;
    writeFileSync(manifestPath, JSON.stringify(m));
    const capped = await PipelineRunner.load(loadPipeline(dir, 'fixture'), { qualities: ['draft'] });
    try {
      const clip = capped.clip('draft');
      const job = { prompt: 'a blue square', seed: 3, quality: 'draft' } as const;
      await expect(capped.decode('default', clip, [{ latents: capped.initialLatents(1, clip) }])).rejects.toThrow(/at most 1 per call/);
      expect(hash((await runPipeline(capped, job)).video)).toBe(hash((await runPipeline(runner, job)).video));
    } finally {
      await capped.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes frame counts on the 8k+1 rule only', () => {
    expect(() => runner.clip('draft', 10)).toThrow(/8k\+1/);
    expect(runner.clip('draft', 17).latent).toEqual([16, 3, 4, 4]);
  });
});

const model = testModel();

describe('PipelineRunner on the shipped single-graph model', () => {
  it('runs 2.0.0 as a pipeline of one stage, byte for byte as the engine does, whole or in frame chunks', async () => {
    const registry = ModelRegistry.load(model.dir, model.name);
    const runner = await PipelineRunner.load(loadPipeline(model.dir, model.name), { qualities: ['draft'] });
    const engine = new InferenceEngine({ resolveVariant: (n) => registry.variant(n) });
    try {
      const prompt = 'two red circles bouncing on a blue background';
      const clip = runner.clip('draft');
      const whole = await runPipeline(runner, { prompt, seed: 5, quality: 'draft' });
      const ref = await engine.run(registry.tier('draft').variant, [
        { tokens: registry.encodePrompt(prompt).tokens, noise: registry.noise(5), times: registry.times(clip.frames) },
      ]);
      expect(hash(whole.video)).toBe(hash(ref.videos[0]!));
      const variant = runner.pipeline.tiers.draft.variants.decoder;
      const row = { tokens: runner.tokenize(prompt), noise: runner.graphNoise(5) };
      const half = clip.decodeFrames / 2;
      const [first] = await runner.decode(variant, clip, [row], 0, half);
      const [second] = await runner.decode(variant, clip, [row], half);
      expect(hash(Buffer.concat([first!, second!]))).toBe(hash(whole.video));
    } finally {
      await engine.close();
      await runner.close();
    }
  });
});
