import type { Quality } from '@clickvid/contracts';
import { decodeFrames, latentShape, ModelError, seededNoise, tensorFor, Tokenizer, type Component, type Pipeline, type PipelineTensor } from '@clickvid/core';
import * as ort from 'onnxruntime-node';
import { WorkerError } from '../errors.js';
import { FRAME_QUANTUM } from '../step-scheduler.js';
import { calculateShift, FlowMatchEulerScheduler, scaleNoise, type FlowMatchState } from './flow-match-euler.js';
import { upsampleLatents } from './latent-upsample.js';
import { classifierFreeGuidance, needsUncond } from './guidance.js';
import { createSession, runSession } from './session.js';
import { floatOutput, numericTensor, rgbBytes, sliceFrames, stackRows } from './tensors.js';

/** The size of one clip; every row of one call has the same. */
export interface ClipShape {
  frames: number;
  width: number;
  height: number;
  /** One row's latents [channels, frames, h, w]; null for the single graph. */
  latent: readonly [number, number, number, number] | null;
  /** Length of the axis a decode is chunked along: latent frames, or video frames for a scene latent and the single graph. */
  decodeFrames: number;
}

export interface StepRow {
  latents: Float32Array;
  /** The prompt's text embedding, from encode. */
  embedding: Float32Array;
  /** This job's scheduler state; the step advances it. */
  state: FlowMatchState;
  guidanceScale: number;
}

/** Pipeline form: the row's denoised latents. Single graph: the prompt's tokens and the seed's noise vector. */
export type DecodeRow = { latents: Float32Array } | { tokens: BigInt64Array; noise: Float32Array };

export interface PipelineRunnerOptions {
  /** @defaultValue 2 */
  intraOpNumThreads?: number;
  /** Load only the variants these tiers name. @defaultValue all three */
  qualities?: readonly Quality[];
}

/**
 * The components of one pipeline, loaded, and the three calls a step scheduler interleaves:
 * encode prompts, one denoiser step for a set of rows (each at its own timestep), decode a
 * chunk of frames for a set of rows. Names, shapes and dtypes come from the manifest.
 * One call at a time: the intra-op threads already use the cores.
 */
export class PipelineRunner {
  readonly scheduler: FlowMatchEulerScheduler | null;
  readonly #tokenizer: Tokenizer;
  #uncond: Float32Array | null = null;

  private constructor(
    readonly pipeline: Pipeline,
    private readonly sessions: {
      textEncoder: ort.InferenceSession | null;
      denoisers: ReadonlyMap<string, ort.InferenceSession>;
      decoders: ReadonlyMap<string, ort.InferenceSession>;
    },
  ) {
    this.scheduler = pipeline.scheduler && new FlowMatchEulerScheduler(pipeline.scheduler);
    this.#tokenizer = new Tokenizer(wordTokenizer(pipeline));
  }

  /** Verifies and loads every component the tiers name, and encodes the unconditional prompt once. */
  static async load(pipeline: Pipeline, options: PipelineRunnerOptions = {}): Promise<PipelineRunner> {
    wordTokenizer(pipeline); // refused before any session is made
    const threads = options.intraOpNumThreads ?? 2;
    const tiers = (options.qualities ?? (['draft', 'standard', 'final'] as const)).map((q) => pipeline.tiers[q]);
    /** One session per variant the tiers name (a component the form lacks is named null). */
    const open = async (c: Component | null, names: readonly (string | null)[]) => {
      const out = new Map<string, ort.InferenceSession>();
      for (const name of new Set(names)) {
        if (name === null) continue;
        const file = c?.variants.get(name);
        if (file === undefined) throw new WorkerError('model_unavailable', `${pipeline.id}: no variant ${name}`, { retryable: false });
        out.set(name, await createSession(file, threads));
      }
      return out;
    };
    const textEncoders = await open(pipeline.textEncoder, tiers.map((t) => t.variants.textEncoder));
    const textEncoder = textEncoders.values().next().value ?? null;
    const denoisers = await open(pipeline.denoiser, tiers.map((t) => t.variants.denoiser));
    const decoders = await open(pipeline.decoder, tiers.map((t) => t.variants.decoder));
    const runner = new PipelineRunner(pipeline, { textEncoder, denoisers, decoders });
    if (pipeline.guidance?.mode === 'cfg') runner.#uncond = (await runner.encode([pipeline.guidance.unconditionalPrompt]))[0]!;
    return runner;
  }

  /** The clip a tier renders, at `frames` video frames (which must follow the model's frame rule). */
  clip(quality: Quality, frames = this.pipeline.tiers[quality].frames): ClipShape {
    const tier = this.pipeline.tiers[quality];
    const { latent } = this.pipeline;
    if (latent === null) return { frames, width: tier.width, height: tier.height, latent: null, decodeFrames: frames };
    const { multipleOf, plus } = latent.framesRule;
    if ((frames - plus) % multipleOf !== 0 || frames < Math.max(1, plus) || frames > tier.maxFrames) {
      throw new ModelError('unsupported_parameter', `${frames} frames: this model renders ${multipleOf}k+${plus} frames, at most ${tier.maxFrames}`, 'frames');
    }
    const shape = latentShape(latent, frames, tier.width, tier.height);
    return { frames, width: tier.width, height: tier.height, latent: shape, decodeFrames: decodeFrames(latent, frames) };
  }

  tokenize(prompt: string): BigInt64Array {
    return BigInt64Array.from(this.#tokenizer.encode(prompt).ids, BigInt);
  }

  /** Text embeddings, one per prompt, in one text-encoder call. */
  async encode(prompts: readonly string[]): Promise<Float32Array[]> {
    const te = this.pipeline.textEncoder;
    if (te === null || this.sessions.textEncoder === null) throw new WorkerError('internal_error', 'this model has no text encoder', { retryable: false });
    const tokens = stackRows(prompts.map((p) => this.tokenize(p)), (n) => new BigInt64Array(n));
    const dims = [prompts.length, tokens.length / prompts.length];
    const feeds: Record<string, ort.Tensor> = { [tensorFor(te, 'inputs', 'token_ids').name]: new ort.Tensor('int64', tokens, dims) };
    const mask = te.inputs.find((t) => t.role === 'attention_mask');
    if (mask) feeds[mask.name] = new ort.Tensor('int64', tokens.map((t) => (t === 0n ? 0n : 1n)), dims);
    const spec = tensorFor(te, 'outputs', 'text_embeddings');
    const out = await runSession(this.sessions.textEncoder, 'text_encoder', feeds);
    const data = out[spec.name]?.data;
    if (!(data instanceof Float32Array)) throw new WorkerError('inference_failed', `text_encoder gave no float32 ${spec.name}`, { retryable: false });
    const per = data.length / prompts.length;
    // Own buffers: an embedding outlives the call (cached, transferred between threads).
    return prompts.map((_, i) => data.slice(i * per, (i + 1) * per));
  }

  /** The unconditional prompt's embedding, encoded once at load. */
  get unconditionalEmbedding(): Float32Array | null {
    return this.#uncond;
  }

  /** The initial latents: standard Gaussian noise from the seed, in one row's latent shape. */
  initialLatents(seed: number, clip: ClipShape): Float32Array {
    if (clip.latent === null) throw new WorkerError('internal_error', 'the single graph has no latents', { retryable: false });
    return seededNoise(seed, clip.latent.reduce((a, b) => a * b, 1), 'normal');
  }

  /** The single graph's seed-noise input (2.0.0: 8 uniforms). */
  graphNoise(seed: number): Float32Array {
    const g = this.pipeline.graphNoise;
    if (g === null) throw new WorkerError('internal_error', 'only the single graph reads a noise vector', { retryable: false });
    return seededNoise(seed, g.dim, g.distribution);
  }

  /**
   * A fresh scheduler state for one job (the resolution's shift when the config shifts dynamically);
   * with `startSigma`, a schedule from that σ to 0 (a refine).
   */
  schedule(clip: ClipShape, steps: number, startSigma?: number): FlowMatchState {
    if (this.scheduler === null || clip.latent === null) throw new WorkerError('internal_error', 'this model has no scheduler', { retryable: false });
    const [, f, h, w] = clip.latent;
    const cfg = this.scheduler.config;
    return this.scheduler.start(steps, {
      ...(cfg.use_dynamic_shifting ? { mu: calculateShift(cfg, f * h * w) } : {}),
      ...(startSigma !== undefined ? { startSigma } : {}),
    });
  }

  /**
   * Where a job promoted from a draft starts (the manifest's `refine`): the draft's final latents,
   * from a clip of `from.frames` × `from.width` × `from.height`, upsampled to this clip's latent
   * shape and noised to σ = start_sigma with the job's own seed noise; and a schedule of
   * `refine.steps` steps from that σ to 0. The multi-scale recipe of LTX-Video, with a fixed
   * interpolation in place of a learned latent upsampler.
   */
  refineStart(seed: number, clip: ClipShape, from: { latents: Float32Array; frames: number; width: number; height: number }): { latents: Float32Array; state: FlowMatchState } {
    const { refine, latent } = this.pipeline;
    if (refine === null || latent === null || clip.latent === null) {
      throw new WorkerError('internal_error', `${this.pipeline.id} has no refine block: a promoted job starts from its seed`, { retryable: false });
    }
    const shape = latentShape(latent, from.frames, from.width, from.height);
    const up = upsampleLatents(from.latents, shape, clip.latent, refine.upsample);
    return { latents: scaleNoise(up, this.initialLatents(seed, clip), refine.startSigma), state: this.schedule(clip, refine.steps, refine.startSigma) };
  }

  /**
   * ONE denoiser call for rows that may be at different timesteps: each row's velocity
   * (guided: its unconditional row rides in the same call, left out at scale 1), then one
   * scheduler step per row. Returns each row's updated latents and advances its state.
   */
  async step(variant: string, clip: ClipShape, rows: readonly StepRow[]): Promise<Float32Array[]> {
    const dn = this.pipeline.denoiser;
    const session = this.sessions.denoisers.get(variant);
    if (dn === null || clip.latent === null || session === undefined) {
      throw new WorkerError('model_unavailable', `denoiser variant ${variant} is not loaded`, { retryable: false });
    }
    const cfg = this.pipeline.guidance?.mode === 'cfg';
    // Batch layout: per row, its unconditional row (when guided) then its conditional row.
    const batch: { latents: Float32Array; embedding: Float32Array; t: number; scale: number }[] = [];
    for (const r of rows) {
      if (r.state.index >= r.state.timesteps.length) throw new WorkerError('internal_error', 'a row past its last step', { retryable: false });
      const t = dn.timestepValue === 'sigma' ? r.state.sigmas[r.state.index]! : r.state.timesteps[r.state.index]!;
      if (cfg && needsUncond(r.guidanceScale)) batch.push({ latents: r.latents, embedding: this.#uncond!, t, scale: r.guidanceScale });
      batch.push({ latents: r.latents, embedding: r.embedding, t, scale: r.guidanceScale });
    }
    const n = batch.length;
    const dims = { batch: n, tokens: this.#tokenizer.text.max_tokens };
    const latentsSpec = tensorFor(dn, 'inputs', 'latents');
    const textSpec = tensorFor(dn, 'inputs', 'text_embeddings');
    const feeds: Record<string, ort.Tensor> = {
      [latentsSpec.name]: new ort.Tensor('float32', stackRows(batch.map((b) => b.latents), (k) => new Float32Array(k)), [n, ...clip.latent]),
      [textSpec.name]: new ort.Tensor('float32', stackRows(batch.map((b) => b.embedding), (k) => new Float32Array(k)), resolve(textSpec, dims)),
    };
    feeds[tensorFor(dn, 'inputs', 'timestep').name] = perRow(tensorFor(dn, 'inputs', 'timestep'), batch.map((b) => b.t));
    const scaleSpec = dn.inputs.find((t) => t.role === 'guidance_scale');
    if (scaleSpec) feeds[scaleSpec.name] = perRow(scaleSpec, batch.map((b) => b.scale));

    const size = batch[0]!.latents.length;
    const predicted = floatOutput(await runSession(session, `denoiser ${variant}`, feeds), tensorFor(dn, 'outputs', 'prediction'), n * size);
    const row = (i: number) => predicted.subarray(i * size, (i + 1) * size);
    let i = 0;
    return rows.map((r) => {
      const guided = cfg && needsUncond(r.guidanceScale);
      const velocity = guided ? classifierFreeGuidance(row(i), row(i + 1), r.guidanceScale) : row(i);
      i += guided ? 2 : 1;
      return this.scheduler!.step(r.state, velocity, r.latents);
    });
  }

  /**
   * Decodes frames [start, end) of the decode axis (latent frames; video frames for a scene
   * latent and the single graph) for a set of rows in one call: RGB bytes [frames, height, width, 3]
   * per row. The chunk that starts at 0 loses the frames a causal decoder writes before the first (4k+1).
   */
  async decode(variant: string, clip: ClipShape, rows: readonly DecodeRow[], start = 0, end = clip.decodeFrames): Promise<Uint8Array[]> {
    const dc = this.pipeline.decoder;
    const session = this.sessions.decoders.get(variant);
    if (session === undefined) throw new WorkerError('model_unavailable', `decoder variant ${variant} is not loaded`, { retryable: false });
    const whole = start === 0 && end === clip.decodeFrames;
    const fits = dc.maxChunkFrames === null || end - start <= dc.maxChunkFrames;
    if (!(start >= 0 && start < end && end <= clip.decodeFrames) || (!whole && !dc.chunkable) || !fits) {
      throw new WorkerError('internal_error', `cannot decode frames [${start}, ${end}) of ${clip.decodeFrames} (at most ${dc.maxChunkFrames ?? 'all'} per call)`, {
        retryable: false,
      });
    }
    const n = rows.length;
    const feeds: Record<string, ort.Tensor> = {};
    let videoFrames: number;
    let skip = 0;
    /** Frames rendered past `end` to fill the call to the frame quantum, and dropped. */
    let trim = 0;
    /** Clip time of each of `count` video frames from `start` (past the clip's end, its last frame), one row per job. */
    const frameTimes = (count: number) => {
      const times = Float32Array.from({ length: count }, (_, k) => (clip.frames > 1 ? Math.min(start + k, clip.frames - 1) / (clip.frames - 1) : 0));
      return new ort.Tensor('float32', stackRows(rows.map(() => times), (k) => new Float32Array(k)), [n, count]);
    };
    if (clip.latent !== null) {
      const latentsOf = (r: DecodeRow) => {
        if (!('latents' in r)) throw new WorkerError('internal_error', 'a pipeline decode takes latents', { retryable: false });
        return r.latents;
      };
      /** As diffusers does before vae.decode: latents / scaling_factor + shift_factor. */
      const unscale = (x: Float32Array) => x.map((v) => v / dc.scalingFactor + dc.shiftFactor);
      const latentsInput = tensorFor(dc, 'inputs', 'latents').name;
      if (this.pipeline.latent!.layout === 'scene') {
        // One latent per clip, rendered at the chunk's frame times.
        const latents = rows.map((r) => unscale(latentsOf(r)));
        feeds[latentsInput] = new ort.Tensor('float32', stackRows(latents, (k) => new Float32Array(k)), [n, ...clip.latent]);
        // Every call renders a multiple of the frame quantum, so a frame's bytes never depend on the
        // piece it was in (a clip of 17 frames decodes alike whole or in pieces of 4).
        videoFrames = Math.ceil((end - start) / FRAME_QUANTUM) * FRAME_QUANTUM;
        trim = videoFrames - (end - start);
        feeds[tensorFor(dc, 'inputs', 'frame_times').name] = frameTimes(videoFrames);
      } else {
        const [c, , h, w] = clip.latent;
        const tc = this.pipeline.latent!.temporalCompression;
        const pieces = rows.map((r) => unscale(sliceFrames(latentsOf(r), clip.latent!, start, end)));
        feeds[latentsInput] = new ort.Tensor('float32', stackRows(pieces, (k) => new Float32Array(k)), [n, c, end - start, h, w]);
        videoFrames = (end - start) * tc;
        if (start === 0) skip = clip.decodeFrames * tc - clip.frames;
      }
    } else {
      // The single graph: tokens, seed noise and the clip time of each frame in the chunk.
      const graph = rows.map((r) => {
        if (!('tokens' in r)) throw new WorkerError('internal_error', 'a single-graph decode takes tokens and noise', { retryable: false });
        return r;
      });
      const tokens = stackRows(graph.map((r) => r.tokens), (k) => new BigInt64Array(k));
      const noise = stackRows(graph.map((r) => r.noise), (k) => new Float32Array(k));
      feeds[tensorFor(dc, 'inputs', 'token_ids').name] = new ort.Tensor('int64', tokens, [n, tokens.length / n]);
      feeds[tensorFor(dc, 'inputs', 'noise').name] = new ort.Tensor('float32', noise, [n, noise.length / n]);
      feeds[tensorFor(dc, 'inputs', 'frame_times').name] = frameTimes(end - start);
      videoFrames = end - start;
    }
    const out = await runSession(session, `decoder ${variant}`, feeds);
    const spec = tensorFor(dc, 'outputs', 'video');
    const { width, height } = clip;
    const per = videoFrames * height * width * 3;
    const frameBytes = height * width * 3;
    if (dc.video.layout === 'bcfhw') {
      const data = floatOutput(out, spec, n * per);
      return rows.map((_, i) => {
        const rgb = rgbBytes(data, i * per, videoFrames, height, width, dc.video.range, skip);
        return trim ? rgb.slice(0, rgb.length - trim * frameBytes) : rgb;
      });
    }
    const video = out[spec.name];
    if (video === undefined || video.type !== 'uint8' || video.data.length !== n * per) {
      throw new WorkerError('inference_failed', `decoder ${variant}: ${spec.name} is not uint8 [${n}, ${videoFrames}, ${height}, ${width}, 3]`, { retryable: false });
    }
    const data = video.data as Uint8Array;
    return rows.map((_, i) => data.slice(i * per + skip * frameBytes, (i + 1) * per - trim * frameBytes));
  }

  async close(): Promise<void> {
    const all = [this.sessions.textEncoder, ...this.sessions.denoisers.values(), ...this.sessions.decoders.values()];
    for (const s of all) await s?.release();
  }
}

function wordTokenizer(pipeline: Pipeline) {
  if (pipeline.tokenizer.type !== 'words') {
    throw new ModelError('model_unavailable', `${pipeline.id}: tokenizer.json tokenizers are not supported by this worker yet`);
  }
  return pipeline.tokenizer;
}

/** A per-row scalar input ([batch]), or one shared by the call ([1]): then every row must agree. */
function perRow(spec: PipelineTensor, values: readonly number[]): ort.Tensor {
  if (spec.shape[0] === 'batch') return numericTensor(spec, values, [values.length]);
  if (values.some((v) => v !== values[0])) {
    throw new WorkerError('internal_error', `${spec.name} is shared by the call: rows at different values cannot share it`, { retryable: false });
  }
  return numericTensor(spec, [values[0]!], [1]);
}

/** A tensor's dims with its symbolic names filled in. */
function resolve(spec: PipelineTensor, dims: Readonly<Record<string, number>>): number[] {
  return spec.shape.map((d) => {
    const v = typeof d === 'number' ? d : dims[d];
    if (v === undefined) throw new WorkerError('model_unavailable', `${spec.name}: dim ${d} is not known here`, { retryable: false });
    return v;
  });
}
