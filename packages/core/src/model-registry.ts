import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AspectRatio, EffectiveParams, ModelRef, Quality } from '@clickvid/contracts';
import { ModelManifest, type ManifestTier, type ManifestVariant } from './manifest.js';
import { ModelError, sha256File } from './model-error.js';
import { Tokenizer, type Tokens } from './tokenizer.js';
import { seededNoise } from './noise.js';
import { DEFAULT_VARIANT, loadPipeline, snapFrames, type Pipeline } from './pipeline.js';

export { ModelError, sha256File };

/**
 * What the registry serves, whichever form the manifest has: the single graph's manifest as
 * written, or a pipeline's seen the same way (see {@link servedPipeline}). `noise` is the single
 * graph's seed vector; a pipeline draws its latents in the worker.
 */
export type ServedManifest = Pick<ModelManifest, 'id' | 'version' | 'description' | 'text' | 'variants' | 'tiers'> & {
  noise: ModelManifest['noise'] | null;
  /** A second version of this model taking a share of new jobs (single-graph manifests; see ModelVersions). */
  canary?: ModelManifest['canary'];
};

const QUALITIES = ['draft', 'standard', 'final'] as const;

export interface EncodedPrompt {
  /** Token ids, padded to max_tokens. */
  tokens: BigInt64Array;
  /** Known content words, in prompt order. */
  known: string[];
  /** Words the model does not know (reported to the user as warnings). */
  unknown: string[];
  /** The prompt's words, lower-cased and aliased (all of them, also those past max_tokens). */
  words: string[];
  /** Lower-cased, aliased, single-spaced: part of the output-cache key. */
  normalized: string;
}

export interface ResolvedVariant extends ManifestVariant {
  name: string;
  path: string;
}

export { mulberry32 } from './noise.js';

/**
 * One model's manifest, loaded and checked: tokenizer, seed noise, tiers and variant
 * files. The server uses it to validate prompts and fill in defaults; the worker to run.
 */
export class ModelRegistry {
  readonly tokenizer: Tokenizer;
  private readonly verified = new Map<string, Promise<void>>();

  private constructor(
    readonly manifest: ServedManifest,
    readonly dir: string,
    /** Both forms as one pipeline view (packages/core pipeline.ts): what the worker runs. */
    readonly pipeline: Pipeline,
  ) {
    this.tokenizer = new Tokenizer(manifest.text);
    for (const [q, tier] of Object.entries(manifest.tiers)) {
      if (!manifest.variants[tier.variant]) throw new ModelError('model_unavailable', `tier ${q} names unknown variant ${tier.variant}`);
    }
  }

  /**
   * Reads models/<name>/manifest.json in either form (single graph or pipeline) through
   * {@link loadPipeline}. Throws ModelError(model_unavailable) with the reason.
   */
  static load(modelsDir: string, name: string): ModelRegistry {
    const pipeline = loadPipeline(modelsDir, name);
    if (pipeline.form === 'pipeline') return new ModelRegistry(servedPipeline(pipeline), pipeline.dir, pipeline);
    // The single graph as written (loadPipeline has parsed it once already; this keeps its noise and tensors).
    const manifest = ModelManifest.parse(JSON.parse(readFileSync(path.join(pipeline.dir, 'manifest.json'), 'utf8')));
    return new ModelRegistry(manifest, pipeline.dir, pipeline);
  }

  /** `graph`: one ONNX graph from tokens, seed noise and frame times (2.0.0); `pipeline`: text encoder → denoiser steps → decoder. */
  get form(): Pipeline['form'] {
    return this.pipeline.form;
  }

  get id(): string {
    return this.manifest.id;
  }

  get version(): string {
    return this.manifest.version;
  }

  tier(quality: Quality): ManifestTier {
    return this.manifest.tiers[quality];
  }

  variant(name: string): ResolvedVariant {
    const v = this.manifest.variants[name];
    if (!v) throw new ModelError('model_unavailable', `unknown variant ${name}`);
    return { ...v, name, path: path.join(this.dir, v.file) };
  }

  modelRef(quality: Quality): ModelRef {
    const name = this.tier(quality).variant;
    return { id: this.id, version: this.version, variant: name, sha256: this.variant(name).sha256 };
  }

  /**
   * Checks a variant file's sha256 against the manifest, once per process.
   * The worker refuses to load a file that does not match.
   */
  verify(name: string): Promise<void> {
    if (this.form === 'pipeline') {
      // A pipeline variant's sha256 hashes several files; each is checked on its own when the worker loads it (verifyPipelineFile).
      return Promise.reject(new ModelError('model_unavailable', `${this.id} is a pipeline: its files are verified one by one as the worker loads them`));
    }
    let p = this.verified.get(name);
    if (!p) {
      const v = this.variant(name);
      p = sha256File(v.path).then(
        (sha) => {
          if (sha !== v.sha256) {
            throw new ModelError('model_unavailable', `${v.file}: sha256 ${sha} does not match the manifest (${v.sha256})`);
          }
        },
        (err: Error) => {
          throw new ModelError('model_unavailable', `${v.file}: ${err.message}`);
        },
      );
      p.catch(() => this.verified.delete(name));
      this.verified.set(name, p);
    }
    return p;
  }

  /** Words as the tokenizer sees them: lower case, split on anything not a-z0-9, aliased. */
  words(prompt: string): string[] {
    return this.tokenizer.words(prompt);
  }

  /** Tokenizes a prompt. Throws prompt_not_understood when the model cannot draw it (see {@link refusal}). */
  encodePrompt(prompt: string): EncodedPrompt {
    const t = this.tokenizer.encode(prompt);
    const refused = this.refusal(prompt, t);
    if (refused) throw refused;
    return { tokens: BigInt64Array.from(t.ids, BigInt), known: t.known, unknown: t.unknown, words: t.words, normalized: t.normalized };
  }

  /**
   * Why the model cannot draw a prompt, as the error a submit gets, or null: it knows none of
   * its content words, or it names an object or scene outside the model's world ("a cat",
   * "a sunset"), which would otherwise come out as an unrelated clip.
   */
  refusal(prompt: string, t: Tokens): ModelError | null {
    const details = {
      hint: 'Describe shapes, colours and motion, e.g. "two red circles moving right on a blue background".',
      vocabulary: this.contentWords(),
      unknown: [...new Set(t.unknown)],
    };
    if (t.known.length === 0) {
      return new ModelError('prompt_not_understood', `The model knows none of the words in "${prompt.slice(0, 80)}".`, 'prompt', details);
    }
    const outside = this.tokenizer.outsideWorld(t.words);
    if (outside) {
      return new ModelError(
        'prompt_not_understood',
        `The model draws circles, squares and triangles on plain backgrounds; it cannot draw "${outside.slice(0, 80)}".`,
        'prompt',
        { ...details, outside },
      );
    }
    return null;
  }

  /** The warnings a job for this prompt carries: ignored words, scene overflow, truncation. */
  promptWarnings(t: Pick<Tokens, 'unknown' | 'words'>): string[] {
    const warnings: string[] = [];
    if (t.unknown.length) warnings.push(`The model does not know these words and ignored them: ${[...new Set(t.unknown)].join(', ')}.`);
    const overflow = this.sceneOverflow(t.words);
    if (overflow) warnings.push(overflow);
    const max = this.manifest.text.max_tokens;
    if (t.words.length > max) warnings.push(`Only the first ${max} of ${t.words.length} words were used.`);
    return warnings;
  }

  /**
   * What a prompt asks for beyond the model's scene limits (text.scene), in words for a
   * warning, or null. A group is a phrase naming an object ("two red circles"); groups are
   * joined by "and"; a group without a count word is one object.
   */
  sceneOverflow(words: string[]): string | null {
    const scene = this.manifest.text.scene;
    if (!scene) return null;
    const groups: number[] = [];
    let count: number | undefined;
    for (const w of words) {
      if (w === 'and') count = undefined;
      else if (Object.hasOwn(scene.count_words, w)) count = scene.count_words[w];
      else if (scene.object_words.includes(w)) {
        groups.push(count ?? 1);
        count = undefined;
      }
    }
    const objects = groups.reduce((a, b) => a + b, 0);
    if (objects <= scene.max_objects && groups.length <= scene.max_groups) return null;
    return `The prompt asks for ${objects} object${objects === 1 ? '' : 's'} in ${groups.length} group${groups.length === 1 ? '' : 's'}; the model draws at most ${scene.max_objects} objects in at most ${scene.max_groups} groups, so some are left out.`;
  }

  /** Words that carry meaning for the model, for hints and /v1/models. */
  contentWords(): string[] {
    return this.tokenizer.contentWords();
  }

  /** The seed's noise vector, exactly as the model was trained to read it (the single graph's input). */
  noise(seed: number): Float32Array {
    if (this.manifest.noise === null) throw new ModelError('model_unavailable', `${this.id} is a pipeline: its worker draws the latents from the seed`);
    const { dim, distribution } = this.manifest.noise;
    return seededNoise(seed, dim, distribution);
  }

  /** Normalized clip time per frame: a motion spans the clip at any fps. */
  times(frames: number): Float32Array {
    const out = new Float32Array(frames);
    for (let i = 0; i < frames; i++) out[i] = frames > 1 ? i / (frames - 1) : 0;
    return out;
  }

  /** Aspect ratios the variants can render (their native frame shape). */
  aspectRatios(): AspectRatio[] {
    const ratios = new Set<AspectRatio>();
    for (const v of Object.values(this.manifest.variants)) ratios.add(ratioOf(v.width, v.height));
    return [...ratios];
  }

  /**
   * Fills in a tier's defaults and checks the request against what the model can do.
   * Throws ModelError(unsupported_parameter) naming the parameter.
   */
  resolveParams(
    quality: Quality,
    req: { duration_s?: number; fps?: number; aspect_ratio?: AspectRatio; seed?: number },
    randomSeed: () => number,
  ): EffectiveParams {
    const tier = this.tier(quality);
    const v = this.variant(tier.variant);
    const aspect = ratioOf(v.width, v.height);
    if (req.aspect_ratio && req.aspect_ratio !== aspect) {
      throw new ModelError('unsupported_parameter', `The ${quality} tier renders ${aspect} only.`, 'aspect_ratio', { supported: [aspect] });
    }
    const duration = req.duration_s ?? tier.duration_s;
    if (duration > tier.max_duration_s) {
      throw new ModelError('unsupported_parameter', `duration_s is at most ${tier.max_duration_s} for ${quality}.`, 'duration_s', {
        max: tier.max_duration_s,
      });
    }
    const fps = req.fps ?? tier.fps;
    if (fps > 30) throw new ModelError('unsupported_parameter', 'fps is at most 30.', 'fps', { max: 30 });
    let frames = Math.max(1, Math.round(duration * fps));
    const { latent } = this.pipeline;
    if (latent !== null) {
      // A pipeline renders the frame counts its latent allows (e.g. 8k+1), up to the tier's most.
      frames = snapFrames(latent, frames);
      const max = this.pipeline.tiers[quality].maxFrames;
      if (frames > max) {
        throw new ModelError('unsupported_parameter', `${quality} renders at most ${max} frames; ${duration} s at ${fps} fps is ${frames}.`, 'duration_s', {
          max_frames: max,
        });
      }
    }
    return {
      duration_s: frames / fps,
      fps,
      frames,
      width: v.width,
      height: v.height,
      aspect_ratio: aspect,
      seed: req.seed ?? randomSeed(),
    };
  }

  /**
   * Estimated compute for one video: the tier's measured inference time at batch 1
   * (scaled by frame count) plus a per-pixel encode estimate. Used before a job runs.
   */
  estimateSeconds(quality: Quality, params: EffectiveParams): number {
    const tier = this.tier(quality);
    const ms1 = tier.ms_per_video['1'] ?? Object.values(tier.ms_per_video)[0] ?? 50;
    const tierFrames = Math.max(1, Math.round(tier.duration_s * tier.fps));
    const inferMs = (ms1 * params.frames) / tierFrames;
    const encodeMs = 10 + (params.frames * params.width * params.height) / 40_000;
    return (inferMs + encodeMs) / 1000;
  }
}

/**
 * A pipeline as the server and the single-graph code paths see a model: the word tokenizer as its
 * text spec, and one variant per (denoiser precision, resolution) its tiers render, named like
 * 2.0.0's (`int8-64`, `fp32-128`), or by the tier's decoder variant when the decoder has variants
 * (3.0.0's renderers: `int8-128`, `fp32-256`). A variant's sha256 is the sha256 of the sha256s of every file
 * that makes its pixels (text encoder, denoiser variant, decoder, scheduler config), so the output
 * cache and `job.model` change whenever any of them does.
 */
export function servedPipeline(p: Pipeline): ServedManifest {
  if (p.tokenizer.type !== 'words') {
    throw new ModelError('model_unavailable', `${p.id}: a tokenizer.json tokenizer cannot be served yet (no tokenizer library runs it here)`);
  }
  const { type: _type, ...text } = p.tokenizer;
  const variants: Record<string, ManifestVariant> = {};
  const tiers = {} as Record<Quality, ManifestTier>;
  for (const q of QUALITIES) {
    const t = p.tiers[q];
    const denoiser = p.denoiser?.variants.get(t.variants.denoiser ?? '');
    const decoder = p.decoder.variants.get(t.variants.decoder);
    const files = [p.textEncoder?.variants.get(t.variants.textEncoder ?? ''), denoiser, decoder, p.schedulerFile];
    if (denoiser === undefined || decoder === undefined || files.some((f) => f == null)) throw new ModelError('model_unavailable', `${p.id}: tier ${q} names a file the manifest lacks`);
    const byDecoder = t.variants.decoder !== DEFAULT_VARIANT;
    const name = byDecoder ? t.variants.decoder : `${t.variants.denoiser}-${t.width === t.height ? t.width : `${t.width}x${t.height}`}`;
    variants[name] = {
      file: (byDecoder ? decoder : denoiser).file,
      sha256: createHash('sha256').update(JSON.stringify(files.map((f) => f!.sha256))).digest('hex'),
      bytes: files.reduce((n, f) => n + f!.bytes, 0),
      precision: (byDecoder ? decoder.precision : denoiser.precision) ?? t.variants.denoiser!,
      width: t.width,
      height: t.height,
    };
    tiers[q] = {
      variant: name,
      fps: t.fps,
      duration_s: t.frames / t.fps,
      max_duration_s: t.maxDurationS,
      max_batch: t.maxBatch,
      ms_per_video: { ...t.msPerVideo },
    };
  }
  return { id: p.id, version: p.version, description: p.description, text: { ...text }, noise: null, variants, tiers };
}

function ratioOf(w: number, h: number): AspectRatio {
  const r = w / h;
  if (Math.abs(r - 16 / 9) < 0.02) return '16:9';
  if (Math.abs(r - 9 / 16) < 0.02) return '9:16';
  if (Math.abs(r - 4 / 5) < 0.02) return '4:5';
  return '1:1';
}

