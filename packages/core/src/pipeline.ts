import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Quality } from '@clickvid/contracts';
import { z } from 'zod';
import { ModelManifest } from './manifest.js';
import { ModelError, sha256File } from './model-error.js';
import { FlowMatchEulerConfig, PipelineManifest, TensorRole, type PipelineTensor, type PipelineTokenizer } from './pipeline-manifest.js';

/**
 * One view of a model, whichever form its manifest has: the pipeline form, or today's
 * single graph (2.0.0) as a pipeline of one stage — a decoder fed tokens, seed noise and
 * frame times, with no text encoder, no denoiser and no steps.
 */
export interface Pipeline {
  form: 'pipeline' | 'graph';
  id: string;
  version: string;
  description: string;
  dir: string;
  tokenizer: PipelineTokenizer;
  textEncoder: Component | null;
  denoiser: Denoiser | null;
  decoder: Decoder;
  latent: LatentSpec | null;
  /** The single-graph form's seed noise vector (its one stage reads it as an input). */
  graphNoise: { dim: number; distribution: 'uniform' | 'normal' } | null;
  scheduler: FlowMatchEulerConfig | null;
  /** scheduler/scheduler_config.json, part of what makes the pixels (null for the single graph). */
  schedulerFile: PipelineFile | null;
  /** How a promoted job refines its draft's latents (manifest `refine`); null: it starts from its seed. */
  refine: { upsample: 'nearest' | 'trilinear'; startSigma: number; steps: number } | null;
  guidance: { mode: 'cfg' | 'embedded'; unconditionalPrompt: string } | null;
  tiers: Readonly<Record<Quality, PipelineTier>>;
}

export interface PipelineFile {
  /** Path inside the model folder, as the manifest writes it. */
  file: string;
  /** Absolute path. */
  path: string;
  sha256: string;
  bytes: number;
  /** A denoiser variant's precision (`fp32`, `int8`, …). */
  precision?: string;
}

export interface Component {
  /** Precision variants; single-file components have one, named `default`. */
  variants: ReadonlyMap<string, PipelineFile>;
  inputs: readonly PipelineTensor[];
  outputs: readonly PipelineTensor[];
}

export interface Denoiser extends Component {
  timestepValue: 'timestep' | 'sigma';
}

export interface Decoder extends Component {
  /** Whether latent frames (video frames for the single graph) decode independently, so a clip may be decoded in pieces. */
  chunkable: boolean;
  /** Latent frames one call may take; null: no limit. */
  maxChunkFrames: number | null;
  video: { layout: 'bfhwc' | 'bcfhw'; range: readonly [number, number] };
  /** Latents are unscaled as latents / scalingFactor + shiftFactor before the decoder sees them. */
  scalingFactor: number;
  shiftFactor: number;
}

export interface LatentSpec {
  /** `grid`: a video VAE's [channels, frames, h, w]; `scene`: one [channels, 1, 1, 1] per clip, rendered at frame times. */
  layout: 'grid' | 'scene';
  channels: number;
  /** Video frames per latent frame (grid); 1 for a scene latent, whose decoder takes video frames. */
  temporalCompression: number;
  /** Video pixels per latent cell (grid); 0 for a scene latent. */
  spatialCompression: number;
  framesRule: { multipleOf: number; plus: number };
}

export interface PipelineTier {
  steps: number;
  guidanceScale: number;
  /** Variant per component: which file each stage loads for this tier. */
  variants: { textEncoder: string | null; denoiser: string | null; decoder: string };
  width: number;
  height: number;
  frames: number;
  maxFrames: number;
  /** The longest clip a request may ask (the manifest's, else maxFrames at the tier's fps). */
  maxDurationS: number;
  fps: number;
  maxBatch: number;
  /** Measured ms of inference per video, by batch size (the manifest's figure; may be empty). */
  msPerVideo: Readonly<Record<string, number>>;
  /** [channels, frames, height, width] of one row's latents at `frames`; null for the single graph. */
  latentShape: readonly [number, number, number, number] | null;
}

export const DEFAULT_VARIANT = 'default';

/** The one place a role is looked up: throws model_unavailable naming the component when missing. */
export function tensorFor(component: Component, side: 'inputs' | 'outputs', role: TensorRole): PipelineTensor {
  const t = component[side].find((x) => x.role === role);
  if (!t) throw new ModelError('model_unavailable', `the manifest names no ${side === 'inputs' ? 'input' : 'output'} with role ${role}`);
  return t;
}

export function hasTensor(component: Component, side: 'inputs' | 'outputs', role: TensorRole): boolean {
  return component[side].some((x) => x.role === role);
}

/** Latent frames for `frames` video frames: the first latent frame is one video frame, each further one is `temporalCompression`. */
export function latentFrames(latent: LatentSpec, frames: number): number {
  return latent.layout === 'scene' ? 1 : Math.ceil(frames / latent.temporalCompression);
}

/** Frames a decode call is chunked along, for a clip of `frames`: latent frames (grid), or the video's own (scene). */
export function decodeFrames(latent: LatentSpec, frames: number): number {
  return latent.layout === 'scene' ? frames : latentFrames(latent, frames);
}

/** The nearest allowed frame count at or above `frames` (LTX-Video wants 8k+1, Wan 4k+1). */
export function snapFrames(latent: LatentSpec, frames: number): number {
  const { multipleOf, plus } = latent.framesRule;
  return plus + multipleOf * Math.max(0, Math.ceil((frames - plus) / multipleOf));
}

/** [channels, latent frames, latent height, latent width] of one row. */
export function latentShape(latent: LatentSpec, frames: number, width: number, height: number): [number, number, number, number] {
  if (latent.layout === 'scene') return [latent.channels, 1, 1, 1];
  const s = latent.spatialCompression;
  return [latent.channels, latentFrames(latent, frames), height / s, width / s];
}

/**
 * Reads models/<name>/manifest.json in either form. The scheduler config (and a tokenizer.json)
 * are read and sha256-checked now; ONNX files when a session is made (verifyPipelineFile).
 * Throws ModelError(model_unavailable) with the reason.
 */
export function loadPipeline(modelsDir: string, name: string): Pipeline {
  const dir = path.resolve(modelsDir, name);
  const raw = readJson(path.join(dir, 'manifest.json'));
  const isPipeline = typeof raw === 'object' && raw !== null && (raw as { format?: unknown }).format === 'pipeline';
  if (!isPipeline) {
    const parsed = ModelManifest.safeParse(raw);
    if (!parsed.success) throw new ModelError('model_unavailable', `bad manifest in ${dir}: ${z.prettifyError(parsed.error)}`);
    return fromGraph(parsed.data, dir);
  }
  const parsed = PipelineManifest.safeParse(raw);
  if (!parsed.success) throw new ModelError('model_unavailable', `bad pipeline manifest in ${dir}: ${z.prettifyError(parsed.error)}`);
  return fromPipeline(parsed.data, dir);
}

function fromPipeline(m: PipelineManifest, dir: string): Pipeline {
  const file = (f: { file: string; sha256: string; bytes: number }): PipelineFile => ({ ...f, path: path.join(dir, f.file) });
  const single = (f: { file: string; sha256: string; bytes: number }) => new Map([[DEFAULT_VARIANT, file(f)]]);
  const { text_encoder: te, denoiser: dn, decoder: dc } = m.components;
  const schedulerFile = file(m.scheduler);
  const scheduler = FlowMatchEulerConfig.safeParse(JSON.parse(readChecked(schedulerFile).toString('utf8')));
  if (!scheduler.success) throw new ModelError('model_unavailable', `${schedulerFile.file}: ${z.prettifyError(scheduler.error)}`);
  if (m.tokenizer.type === 'tokenizer.json') readChecked(file(m.tokenizer));
  const latent: LatentSpec = {
    layout: m.latent.layout,
    channels: m.latent.channels,
    temporalCompression: m.latent.layout === 'grid' ? m.latent.temporal_compression : 1,
    spatialCompression: m.latent.layout === 'grid' ? m.latent.spatial_compression : 0,
    framesRule: { multipleOf: m.latent.frames.multiple_of, plus: m.latent.frames.plus },
  };
  const tier = (t: PipelineManifest['tiers']['draft']): PipelineTier => ({
    steps: t.steps,
    guidanceScale: t.guidance_scale,
    variants: { textEncoder: DEFAULT_VARIANT, denoiser: t.denoiser, decoder: t.decoder ?? DEFAULT_VARIANT },
    width: t.width,
    height: t.height,
    frames: t.frames,
    maxFrames: t.max_frames,
    maxDurationS: t.max_duration_s ?? t.max_frames / t.fps,
    fps: t.fps,
    maxBatch: t.max_batch,
    msPerVideo: t.ms_per_video,
    latentShape: latentShape(latent, t.frames, t.width, t.height),
  });
  return {
    form: 'pipeline',
    id: m.id,
    version: m.version,
    description: m.description,
    dir,
    tokenizer: m.tokenizer,
    textEncoder: { variants: single(te), inputs: te.inputs, outputs: te.outputs },
    denoiser: {
      variants: new Map(Object.entries(dn.variants).map(([k, v]) => [k, file(v)])),
      inputs: dn.inputs,
      outputs: dn.outputs,
      timestepValue: dn.timestep_value,
    },
    decoder: {
      variants: 'variants' in dc ? new Map(Object.entries(dc.variants).map(([k, v]) => [k, file(v)])) : single(dc),
      inputs: dc.inputs,
      outputs: dc.outputs,
      chunkable: dc.chunk !== undefined,
      maxChunkFrames: dc.chunk?.max_latent_frames ?? null,
      video: dc.video,
      scalingFactor: dc.scaling_factor,
      shiftFactor: dc.shift_factor,
    },
    latent,
    graphNoise: null,
    scheduler: scheduler.data,
    schedulerFile,
    refine: m.refine ? { upsample: m.refine.upsample, startSigma: m.refine.start_sigma, steps: m.refine.steps } : null,
    guidance: { mode: m.guidance.mode, unconditionalPrompt: m.guidance.unconditional_prompt },
    tiers: { draft: tier(m.tiers.draft), standard: tier(m.tiers.standard), final: tier(m.tiers.final) },
  };
}

/** Input names of the single-graph form, which predates roles. */
const GRAPH_ROLES = new Map<string, TensorRole>([
  ['tokens', 'token_ids'],
  ['noise', 'noise'],
  ['times', 'frame_times'],
  ['video', 'video'],
]);

const GRAPH_DIMS = new Map([
  ['frames', 'video_frames'],
  ['height', 'video_height'],
  ['width', 'video_width'],
]);

function fromGraph(m: ModelManifest, dir: string): Pipeline {
  const withRole = (t: ModelManifest['inputs'][number]): PipelineTensor => {
    const role = GRAPH_ROLES.get(t.name);
    if (!role) throw new ModelError('model_unavailable', `single-graph manifest in ${dir}: tensor ${t.name} has no known role`);
    // The graph has no latents: its frames, height and width are the video's.
    const shape = t.shape.map((d) => (typeof d === 'number' ? d : (GRAPH_DIMS.get(d) ?? d)));
    return { name: t.name, role, dtype: t.dtype as PipelineTensor['dtype'], shape: shape as PipelineTensor['shape'] };
  };
  const variants = new Map(Object.entries(m.variants).map(([k, v]) => [k, { file: v.file, path: path.join(dir, v.file), sha256: v.sha256, bytes: v.bytes }]));
  const tier = (q: Quality): PipelineTier => {
    const t = m.tiers[q];
    const v = m.variants[t.variant];
    if (!v) throw new ModelError('model_unavailable', `tier ${q} names unknown variant ${t.variant}`);
    return {
      steps: 0,
      guidanceScale: 1,
      variants: { textEncoder: null, denoiser: null, decoder: t.variant },
      width: v.width,
      height: v.height,
      frames: Math.max(1, Math.round(t.duration_s * t.fps)),
      maxFrames: Math.max(1, Math.round(t.max_duration_s * t.fps)),
      maxDurationS: t.max_duration_s,
      fps: t.fps,
      maxBatch: t.max_batch,
      msPerVideo: t.ms_per_video,
      latentShape: null,
    };
  };
  return {
    form: 'graph',
    id: m.id,
    version: m.version,
    description: m.description,
    dir,
    tokenizer: { type: 'words', ...m.text },
    textEncoder: null,
    denoiser: null,
    // Frames are independent in this renderer: any run of frame times decodes alone.
    decoder: {
      variants,
      inputs: m.inputs.map(withRole),
      outputs: m.outputs.map(withRole),
      chunkable: true,
      maxChunkFrames: null,
      video: { layout: 'bfhwc', range: [0, 255] },
      scalingFactor: 1,
      shiftFactor: 0,
    },
    latent: null,
    graphNoise: { dim: m.noise.dim, distribution: m.noise.distribution },
    scheduler: null,
    schedulerFile: null,
    refine: null,
    guidance: null,
    tiers: { draft: tier('draft'), standard: tier('standard'), final: tier('final') },
  };
}

const verified = new Map<string, Promise<void>>();

/**
 * Checks one file's sha256 against the manifest, once per process and path; refused on a
 * mismatch with model_unavailable. A failure is not remembered: the file may be fixed.
 */
export function verifyPipelineFile(f: PipelineFile): Promise<void> {
  const key = `${f.path}\0${f.sha256}`;
  let p = verified.get(key);
  if (!p) {
    p = sha256File(f.path).then(
      (sha) => {
        if (sha !== f.sha256) throw new ModelError('model_unavailable', `${f.file}: sha256 ${sha} does not match the manifest (${f.sha256})`);
      },
      (err: Error) => {
        throw new ModelError('model_unavailable', `${f.file}: ${err.message}`);
      },
    );
    p.catch(() => verified.delete(key));
    verified.set(key, p);
  }
  return p;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ModelError('model_unavailable', `cannot read ${file}: ${(err as Error).message}`);
  }
}

/** A small file read whole and checked before it is parsed. */
function readChecked(f: PipelineFile): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(f.path);
  } catch (err) {
    throw new ModelError('model_unavailable', `cannot read ${f.path}: ${(err as Error).message}`);
  }
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== f.sha256) throw new ModelError('model_unavailable', `${f.file}: sha256 ${sha} does not match the manifest (${f.sha256})`);
  return bytes;
}
