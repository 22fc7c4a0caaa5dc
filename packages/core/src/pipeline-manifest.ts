import { z } from 'zod';
import { TextScene } from './manifest.js';

/**
 * The pipeline form of models/<name>/manifest.json: a text-to-video model as the open ones
 * ship (diffusers' model_index.json, optimum's ONNX folders): tokenizer → text encoder →
 * a denoiser called once per step by a scheduler, with classifier-free guidance → decoder.
 * The worker reads every tensor name, shape and dtype from here; nothing model-specific is
 * written in its code. models/pipeline-fixture/manifest.json is a complete example.
 */

/** A file beside the manifest, refused when its sha256 differs. */
const FileRef = z.object({
  file: z
    .string()
    .regex(/^[\w.-]+(\/[\w.-]+)*$/, 'a relative path inside the model folder')
    .refine((p) => !p.split('/').includes('..'), 'a relative path inside the model folder'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().positive(),
});

/** Symbolic dims the worker fills in: batch (rows in one call), and per tier the latent and video sizes. */
export const SYMBOLIC_DIMS = ['batch', 'tokens', 'channels', 'frames', 'height', 'width', 'video_frames', 'video_height', 'video_width'] as const;
const Dim = z.union([z.number().int().positive(), z.enum(SYMBOLIC_DIMS)]);

/**
 * What an input or output carries, so that the runner can find it by meaning instead of by
 * name: `hidden_states` in one export is `sample` or `x` in another.
 */
export const TensorRole = z.enum([
  'token_ids', // int64 [batch, tokens]
  'attention_mask', // int64 [batch, tokens], 1 for real tokens
  'text_embeddings', // encoder output, denoiser input
  'latents', // [batch, channels, frames, height, width]
  'timestep', // [batch] per row, or [1] shared by the call
  'guidance_scale', // embedded guidance: [batch] per row, or [1]
  'prediction', // denoiser output, same shape as latents
  'video', // decoder output
  // Clip time in [0, 1] of each video frame a decode call writes: the single graph's (2.0.0) and a scene latent's decoder.
  'frame_times',
  // The single-graph form only: its seed noise goes straight to the generator.
  'noise',
]);
export type TensorRole = z.infer<typeof TensorRole>;

const Tensor = z.object({
  name: z.string().min(1),
  role: TensorRole,
  dtype: z.enum(['float32', 'float16', 'int64', 'int32', 'uint8']),
  shape: z.array(Dim).min(1),
});
export type PipelineTensor = z.infer<typeof Tensor>;

const Io = { inputs: z.array(Tensor).min(1), outputs: z.array(Tensor).min(1) };

const WordTokenizer = z.object({
  type: z.literal('words'),
  max_tokens: z.number().int().positive(),
  vocabulary: z.array(z.string()).min(2),
  aliases: z.record(z.string(), z.string()).default({}),
  function_words: z.array(z.string()).default([]),
  scene: TextScene.optional(),
});

/** A Hugging Face tokenizers file (tokenizer/tokenizer.json), padded or cut to max_tokens. */
const JsonTokenizer = FileRef.extend({
  type: z.literal('tokenizer.json'),
  max_tokens: z.number().int().positive(),
  pad_token_id: z.number().int().nonnegative().default(0),
});
export const PipelineTokenizer = z.discriminatedUnion('type', [WordTokenizer, JsonTokenizer]);
export type PipelineTokenizer = z.infer<typeof PipelineTokenizer>;

const Variant = FileRef.extend({ precision: z.enum(['fp32', 'fp16', 'int8']) });
const Variants = z.record(z.string(), Variant).refine((v) => Object.keys(v).length > 0, 'at least one variant');

/**
 * How the decoder may be split so that no one call runs long: latent frames decode independently
 * (video frames, for a scene latent: every call renders the frame times it is given).
 */
const Chunking = z.object({
  axis: z.literal('frames'),
  /** Frames one call may take (memory); absent: any number. */
  max_latent_frames: z.number().int().positive().optional(),
});

/**
 * Video values as the decoder writes them: uint8 RGB last (ours), or diffusers' float
 * `sample` with RGB first in [-1, 1], which the runner turns into bytes.
 */
const VideoFormat = z.object({
  layout: z.enum(['bfhwc', 'bcfhw']),
  range: z.tuple([z.number(), z.number()]).default([0, 255]),
});

const DecoderFields = {
  ...Io,
  chunk: Chunking.optional(),
  video: VideoFormat,
  /** diffusers' `latents / vae.config.scaling_factor + shift_factor` before decoding. */
  scaling_factor: z.number().positive().default(1),
  shift_factor: z.number().default(0),
};

export const PipelineComponents = z.object({
  text_encoder: FileRef.extend(Io),
  /** `transformer/` or `unet/` in an optimum export; precision variants are picked per tier. */
  denoiser: z.object({
    ...Io,
    /** What the model predicts; flow-matching models predict the velocity (noise − data). */
    prediction: z.literal('velocity'),
    /** What the timestep input carries: diffusers' timesteps (σ·num_train_timesteps) or σ itself. */
    timestep_value: z.enum(['timestep', 'sigma']).default('timestep'),
    variants: Variants,
  }),
  /** One file (a VAE decodes any resolution), or variants by precision and resolution, each tier naming its own. */
  decoder: z.union([FileRef.extend(DecoderFields), z.object({ ...DecoderFields, variants: Variants })]),
});

/** scheduler/scheduler_config.json as diffusers writes it; features we do not implement are refused, not ignored. */
export const FlowMatchEulerConfig = z
  .object({
    _class_name: z.literal('FlowMatchEulerDiscreteScheduler'),
    num_train_timesteps: z.number().int().positive().default(1000),
    shift: z.number().positive().default(1),
    use_dynamic_shifting: z.boolean().default(false),
    base_shift: z.number().default(0.5),
    max_shift: z.number().default(1.15),
    base_image_seq_len: z.number().int().positive().default(256),
    max_image_seq_len: z.number().int().positive().default(4096),
    shift_terminal: z.number().gt(0).lt(1).nullable().default(null),
    time_shift_type: z.literal('exponential').default('exponential'),
    invert_sigmas: z.literal(false).default(false),
    use_karras_sigmas: z.literal(false).default(false),
    use_exponential_sigmas: z.literal(false).default(false),
    use_beta_sigmas: z.literal(false).default(false),
    stochastic_sampling: z.literal(false).default(false),
  })
  .loose();
export type FlowMatchEulerConfig = z.infer<typeof FlowMatchEulerConfig>;

const LatentCommon = {
  channels: z.number().int().positive(),
  /** Allowed video frame counts: multiple_of·k + plus (LTX-Video 8k+1, Wan 4k+1). */
  frames: z.object({ multiple_of: z.number().int().positive(), plus: z.number().int().nonnegative() }),
  /** The initial latents: Gaussian noise drawn from the job's seed, one stream per row. */
  noise: z.object({ generator: z.literal('mulberry32'), distribution: z.literal('normal') }),
};

/** A video VAE's latent: [channels, frames, h, w], compressed from the video's frames and pixels. */
const GridLatent = z.object({
  layout: z.literal('grid').default('grid'),
  ...LatentCommon,
  /** Video frames per latent frame; the first latent frame is one video frame (causal video VAEs). */
  temporal_compression: z.number().int().positive(),
  /** Video pixels per latent cell, per side. */
  spatial_compression: z.number().int().positive(),
});

/**
 * One latent per clip, [channels, 1, 1, 1] whatever its frames and size: a description of the
 * scene that the decoder renders at the frame times it is given (decoder input role `frame_times`).
 */
const SceneLatent = z.object({ layout: z.literal('scene'), ...LatentCommon });

const Latent = z.union([GridLatent, SceneLatent]);

const Guidance = z.object({
  /**
   * `cfg`: classifier-free guidance, uncond + s·(cond − uncond), both rows in one call and the
   * uncond row left out when s is 1. `embedded`: the denoiser takes the scale as an input
   * (guidance-distilled models) and runs one row.
   */
  mode: z.enum(['cfg', 'embedded']),
  /** Encoded once per load. */
  unconditional_prompt: z.string().default(''),
});

/**
 * How a job promoted from a draft starts from that draft's latents, so that it shows the same
 * scene (LTX-Video's multi-scale recipe: render small, upsample the latents, refine a few steps):
 * the draft's final latents are upsampled to this tier's latent shape, noised to `start_sigma`
 * with the job's own seed noise (σ·noise + (1 − σ)·latents), and denoised in `steps` steps from
 * σ = start_sigma to 0. Without it a promoted job starts from its seed, like any other.
 */
const Refine = z.object({
  /** Latent upsampling over frames, height and width: nearest neighbour, or trilinear (align_corners false, as torch). */
  upsample: z.enum(['nearest', 'trilinear']),
  start_sigma: z.number().gt(0).max(1),
  steps: z.number().int().positive(),
});

const PipelineTier = z.object({
  /** Denoiser variant (precision) for this tier. */
  denoiser: z.string(),
  /** Decoder variant, when the decoder has variants. */
  decoder: z.string().optional(),
  steps: z.number().int().positive(),
  guidance_scale: z.number().min(1),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** Default video frames; a request may ask for up to max_frames, snapped to the frame rule. */
  frames: z.number().int().positive(),
  max_frames: z.number().int().positive(),
  /** The longest clip a request may ask, at any fps up to 30 (and within max_frames); absent: max_frames at the tier's fps. */
  max_duration_s: z.number().positive().optional(),
  fps: z.number().int().positive(),
  max_batch: z.number().int().positive(),
  ms_per_video: z.record(z.string(), z.number().positive('must be measured (> 0)')).default({}),
});
export type PipelineManifestTier = z.infer<typeof PipelineTier>;

/** The pipeline form of a model manifest. */
export const PipelineManifest = z
  .object({
    format: z.literal('pipeline'),
    id: z.string(),
    version: z.string(),
    description: z.string().default(''),
    license: z.string().optional(),
    tokenizer: PipelineTokenizer,
    components: PipelineComponents,
    latent: Latent,
    scheduler: FileRef.extend({ type: z.literal('flow_match_euler') }),
    guidance: Guidance,
    refine: Refine.optional(),
    tiers: z.object({ draft: PipelineTier, standard: PipelineTier, final: PipelineTier }),
  })
  .loose()
  .superRefine((m, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const { latent } = m;
    for (const [q, t] of Object.entries(m.tiers)) {
      if (!Object.hasOwn(m.components.denoiser.variants, t.denoiser)) issue(['tiers', q, 'denoiser'], `unknown denoiser variant ${t.denoiser}`);
      for (const f of [t.frames, t.max_frames]) {
        if ((f - latent.frames.plus) % latent.frames.multiple_of !== 0 || f < Math.max(1, latent.frames.plus)) {
          issue(['tiers', q], `${f} frames breaks the rule ${latent.frames.multiple_of}k+${latent.frames.plus}`);
        }
      }
      if (t.frames > t.max_frames) issue(['tiers', q, 'frames'], 'frames exceeds max_frames');
      if (latent.layout === 'grid' && (t.width % latent.spatial_compression || t.height % latent.spatial_compression)) {
        issue(['tiers', q], `${t.width}×${t.height} is not a multiple of spatial_compression ${latent.spatial_compression}`);
      }
      const decoders = 'variants' in m.components.decoder ? m.components.decoder.variants : null;
      if (decoders === null && t.decoder !== undefined) issue(['tiers', q, 'decoder'], 'the decoder has no variants to choose from');
      if (decoders !== null && (t.decoder === undefined || !Object.hasOwn(decoders, t.decoder))) issue(['tiers', q, 'decoder'], `names no decoder variant of ${Object.keys(decoders).join(', ')}`);
    }
    const has = (io: PipelineTensor[], role: TensorRole) => io.some((t) => t.role === role);
    const { text_encoder: te, denoiser: dn, decoder: dc } = m.components;
    if (!has(te.inputs, 'token_ids') || !has(te.outputs, 'text_embeddings')) issue(['components', 'text_encoder'], 'needs token_ids in, text_embeddings out');
    for (const r of ['latents', 'timestep', 'text_embeddings'] as const) {
      if (!has(dn.inputs, r)) issue(['components', 'denoiser', 'inputs'], `needs an input with role ${r}`);
    }
    if (!has(dn.outputs, 'prediction')) issue(['components', 'denoiser', 'outputs'], 'needs an output with role prediction');
    if ((m.guidance.mode === 'embedded') !== has(dn.inputs, 'guidance_scale')) {
      issue(['guidance', 'mode'], 'a guidance_scale input goes with guidance mode "embedded", and only with it');
    }
    if (!has(dc.inputs, 'latents') || !has(dc.outputs, 'video')) issue(['components', 'decoder'], 'needs latents in, video out');
    if (latent.layout === 'scene' && !has(dc.inputs, 'frame_times')) issue(['components', 'decoder', 'inputs'], 'a scene latent is rendered at frame times: needs an input with role frame_times');
  });
export type PipelineManifest = z.infer<typeof PipelineManifest>;
