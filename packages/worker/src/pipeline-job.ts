import type { Quality } from '@clickvid/contracts';
import { decodeFrames } from '@clickvid/core';
import { EmbeddingCache } from './internal/embedding-cache.js';
import type { FlowMatchState } from './pipeline/flow-match-euler.js';
import type { ClipShape, PipelineRunner } from './pipeline/runner.js';
import { FRAME_QUANTUM, framesPerUnit, type ScheduledJob, type UnitLane, type UnitSpec } from './step-scheduler.js';

type Stage = 'encode' | 'step' | 'decode' | 'done';

/**
 * One job of a pipeline-form model, as the step scheduler interleaves it, in the recipe's
 * order (diffusers' `__call__`): encode the prompt (skipped on an embedding-cache hit) →
 * one denoiser step per unit → decode one chunk of latent frames per unit. Rows of other jobs
 * share a step when variant and latent shape match, whatever their timestep; a decode when
 * they are at the same chunk. The runner does the maths; this only holds the job's state.
 */
export class PipelineJob implements ScheduledJob {
  started = false;
  stage: Stage = 'encode';
  embedding: Float32Array | null = null;
  latents: Float32Array;
  readonly state: FlowMatchState;
  readonly clip: ClipShape;
  /** Next latent frame to decode. */
  decodeAt = 0;
  readonly pieces: Uint8Array[] = [];
  readonly bytes: number;
  readonly #model: string;
  readonly #decodeChunk: number;

  constructor(
    readonly id: string,
    readonly lane: UnitLane,
    readonly seq: number,
    readonly runner: PipelineRunner,
    readonly quality: Quality,
    readonly prompt: string,
    seed: number,
    frames: number | undefined,
    readonly cacheKey: string,
    cached: Float32Array | undefined,
    /** The engine's budget for one uninterruptible unit: sizes this job's decode pieces. */
    unitMs: number,
    /** A promoted job's draft: its final latents and clip size; the job refines them (manifest `refine`). */
    start?: { latents: Float32Array; frames: number; width: number; height: number },
  ) {
    const p = runner.pipeline;
    this.#model = `${p.id}@${p.version}`;
    this.clip = runner.clip(quality, frames);
    if (start) {
      ({ latents: this.latents, state: this.state } = runner.refineStart(seed, this.clip, start));
    } else {
      this.latents = runner.initialLatents(seed, this.clip);
      this.state = runner.schedule(this.clip, p.tiers[quality].steps);
    }
    // Decode pieces as long as fit in a unit at the tier's measured cost (a draft is one piece), in
    // multiples of the frame quantum: the decoders give other bytes for 1- or 2-frame pieces than for
    // whole 4-frame ones, as the single graph does (see FRAME_QUANTUM). Without a measured cost, one quantum.
    const tier = p.tiers[quality];
    const measured = tier.msPerVideo['1'];
    const fit = measured === undefined ? FRAME_QUANTUM : framesPerUnit(unitMs, measured / decodeFrames(p.latent!, tier.frames));
    this.#decodeChunk = p.decoder.chunkable ? Math.max(1, Math.min(p.decoder.maxChunkFrames ?? Infinity, fit)) : this.clip.decodeFrames;
    if (cached) this.#encoded(cached);
    this.bytes = this.latents.byteLength + this.clip.frames * this.clip.width * this.clip.height * 3;
  }

  get tier() {
    return this.runner.pipeline.tiers[this.quality];
  }

  get decodeEnd(): number {
    return Math.min(this.clip.decodeFrames, this.decodeAt + this.#decodeChunk);
  }

  get next(): UnitSpec | null {
    const shape = this.clip.latent!.join('x');
    switch (this.stage) {
      case 'encode':
        return { key: `${this.#model}|encode`, variant: `${this.#model}|text_encoder`, frames: 1 };
      case 'step': {
        const v = this.tier.variants.denoiser!;
        return { key: `${this.#model}|step|${v}|${shape}`, variant: `${this.#model}|${v}`, frames: this.clip.latent![1] };
      }
      case 'decode': {
        const v = this.tier.variants.decoder;
        return { key: `${this.#model}|decode|${v}|${shape}|${this.decodeAt}-${this.decodeEnd}`, variant: `${this.#model}|${v}`, frames: this.decodeEnd - this.decodeAt };
      }
      case 'done':
        return null;
    }
  }

  /** The whole clip, once done: frames × height × width × 3 RGB bytes in one buffer. */
  output(): Uint8Array {
    const out = new Uint8Array(this.pieces.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of this.pieces) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  #encoded(embedding: Float32Array): void {
    this.embedding = embedding;
    this.stage = this.state.index < this.state.timesteps.length ? 'step' : 'decode';
  }

  /** Runs one unit for rows that share its key (all at the same stage), and advances them. */
  static async run(rows: PipelineJob[], embeddings: EmbeddingCache): Promise<void> {
    const lead = rows[0]!;
    const { runner } = lead;
    switch (lead.stage) {
      case 'encode': {
        const out = await runner.encode(rows.map((j) => j.prompt));
        rows.forEach((j, i) => {
          embeddings.set(j.cacheKey, out[i]!);
          j.#encoded(out[i]!);
        });
        return;
      }
      case 'step': {
        const next = await runner.step(
          lead.tier.variants.denoiser!,
          lead.clip,
          rows.map((j) => ({ latents: j.latents, embedding: j.embedding!, state: j.state, guidanceScale: j.tier.guidanceScale })),
        );
        rows.forEach((j, i) => {
          j.latents = next[i]!;
          if (j.state.index >= j.state.timesteps.length) j.stage = 'decode';
        });
        return;
      }
      case 'decode': {
        const start = lead.decodeAt;
        const end = lead.decodeEnd;
        const out = await runner.decode(lead.tier.variants.decoder, lead.clip, rows.map((j) => ({ latents: j.latents })), start, end);
        rows.forEach((j, i) => {
          j.pieces.push(out[i]!);
          j.decodeAt = end;
          if (end >= j.clip.decodeFrames) j.stage = 'done';
        });
        return;
      }
      case 'done':
        return;
    }
  }
}
