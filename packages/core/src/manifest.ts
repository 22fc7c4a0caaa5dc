import { z } from 'zod';

const TensorSpec = z.object({
  name: z.string(),
  dtype: z.string(),
  shape: z.array(z.union([z.number().int(), z.string()])),
});

const Variant = z.object({
  file: z.string().regex(/^[\w.-]+\.onnx$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().positive(),
  precision: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  ops: z.array(z.string()).optional(),
});

const Tier = z.object({
  variant: z.string(),
  fps: z.number().int().positive(),
  duration_s: z.number().positive(),
  max_duration_s: z.number().positive(),
  max_batch: z.number().int().positive(),
  /**
   * Inference ms per video at each batch size, measured (eval.mjs --write). It sizes a final's
   * units and every estimate, so an unmeasured 0 (train.py's placeholder) is refused: served,
   * it made each final one uninterruptible unit.
   */
  ms_per_video: z.record(z.string(), z.number().positive('must be measured (> 0): run eval.mjs --write on the model'))
    .refine((r) => Object.keys(r).length > 0, 'must give at least one batch size'),
});

/** A prompt's scene limits: how many objects and groups, and the words that count and name them. */
export const TextScene = z.object({
  max_objects: z.number().int().positive(),
  max_groups: z.number().int().positive(),
  count_words: z.record(z.string(), z.number().int().positive()),
  object_words: z.array(z.string()).min(1),
  /** Counts, colours and sizes: an unknown word after one, in a phrase with no object word, is outside the model's world. */
  noun_phrase_words: z.array(z.string()).optional(),
});

/** models/<name>/manifest.json: the contract between a trained model and the worker. */
export const ModelManifest = z
  .object({
    id: z.string(),
    version: z.string(),
    description: z.string().default(''),
    license: z.string().optional(),
    /**
     * A candidate version that gets `share` of new jobs: its manifest is models/<model>/manifest.json
     * (same id, this version). Jobs are routed by a hash of prompt and seed (see ModelVersions).
     */
    canary: z.object({ version: z.string(), share: z.number().min(0).max(1), model: z.string().regex(/^[\w.-]+$/) }).optional(),
    text: z.object({
      max_tokens: z.number().int().positive(),
      vocabulary: z.array(z.string()).min(2),
      aliases: z.record(z.string(), z.string()).default({}),
      function_words: z.array(z.string()).default([]),
      /** What one clip can hold: counted from the prompt so that a request beyond it is never dropped silently. */
      scene: TextScene.optional(),
    }),
    noise: z.object({
      dim: z.number().int().positive(),
      generator: z.literal('mulberry32'),
      distribution: z.enum(['uniform', 'normal']),
    }),
    inputs: z.array(TensorSpec),
    outputs: z.array(TensorSpec),
    variants: z.record(z.string(), Variant),
    tiers: z.object({ draft: Tier, standard: Tier, final: Tier }),
  })
  .loose();
export type ModelManifest = z.infer<typeof ModelManifest>;
export type ManifestVariant = z.infer<typeof Variant>;
export type ManifestTier = z.infer<typeof Tier>;
