import type { Quality } from '@clickvid/contracts';
import type { PipelineRunner } from './runner.js';

export interface RenderedClip {
  /** RGB bytes [frames, height, width, 3]. */
  video: Uint8Array;
  frames: number;
  width: number;
  height: number;
  /** The pipeline form's final latents [channels, frames, h, w]: what a job promoted from this one starts from. */
  latents?: Float32Array;
}

/**
 * One job, start to finish, in the order diffusers' pipelines read (`pipeline_ltx.py`
 * `__call__`): encode the prompt → prepare latents → timesteps → denoising loop with guidance
 * → decode. The reference the step scheduler is held to: interleaving jobs must not change
 * a single byte of what this returns.
 */
export async function runPipeline(
  runner: PipelineRunner,
  job: { prompt: string; seed: number; quality: Quality; frames?: number; start?: { latents: Float32Array; frames: number; width: number; height: number } },
): Promise<RenderedClip> {
  const tier = runner.pipeline.tiers[job.quality];
  const clip = runner.clip(job.quality, job.frames);
  const done = (video: Uint8Array): RenderedClip => ({ video, frames: clip.frames, width: clip.width, height: clip.height });

  if (runner.pipeline.form === 'graph') {
    // A pipeline of one stage: the graph reads tokens, seed noise and frame times directly.
    const [video] = await runner.decode(tier.variants.decoder, clip, [{ tokens: runner.tokenize(job.prompt), noise: runner.graphNoise(job.seed) }]);
    return done(video!);
  }

  // 1. Encode the prompt (the unconditional prompt was encoded once, at load).
  const [embedding] = await runner.encode([job.prompt]);
  // 2–3. Prepare latents and timesteps: Gaussian noise from the seed over the tier's steps, or for a
  // job promoted from a draft, the draft's latents upsampled and noised to the refine's start σ.
  const begin = job.start
    ? runner.refineStart(job.seed, clip, job.start)
    : { latents: runner.initialLatents(job.seed, clip), state: runner.schedule(clip, tier.steps) };
  let latents = begin.latents;
  const { state } = begin;
  // 4. Denoising loop: one guided denoiser call and one scheduler step per timestep.
  while (state.index < state.timesteps.length) {
    const [next] = await runner.step(tier.variants.denoiser!, clip, [{ latents, embedding: embedding!, state, guidanceScale: tier.guidanceScale }]);
    latents = next!;
  }
  // 5. Decode, in as few calls as the decoder allows.
  const chunk = runner.pipeline.decoder.maxChunkFrames ?? clip.decodeFrames;
  const pieces: Uint8Array[] = [];
  for (let f = 0; f < clip.decodeFrames; f += chunk) {
    const [piece] = await runner.decode(tier.variants.decoder, clip, [{ latents }], f, Math.min(f + chunk, clip.decodeFrames));
    pieces.push(piece!);
  }
  return { ...done(pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces)), latents };
}
