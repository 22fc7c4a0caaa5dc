import { z } from 'zod';
import { AspectRatio, Cost, EffectiveParams, ModelRef, Quality } from './jobs.js';
import { ErrorCode } from './errors.js';

/** POST /v1/prompts/check: what a submit of this prompt would do, without submitting it. */
export const PromptCheckRequest = z.strictObject({
  prompt: z.string().trim().min(1).max(500),
  quality: Quality.optional(),
  duration_s: z.number().min(0.25).max(30).optional(),
  fps: z.number().int().min(1).max(60).optional(),
  aspect_ratio: AspectRatio.optional(),
  seed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
});
export type PromptCheckRequest = z.infer<typeof PromptCheckRequest>;

export const PromptCheck = z.object({
  object: z.literal('prompt_check'),
  prompt: z.string(),
  /** The prompt as the model reads it: lower case, split into words, synonyms and plurals mapped to its words. */
  normalized: z.string(),
  /** Words that carry meaning for the model, in prompt order. */
  known: z.array(z.string()),
  /** Words the model does not know: ignored if the prompt is drawn. */
  unknown: z.array(z.string()),
  /** The warnings a job for this prompt would carry. */
  warnings: z.array(z.string()),
  /** True when a submit would be refused; `error` is the error it would get. */
  refused: z.boolean(),
  error: z
    .object({ code: ErrorCode, message: z.string(), param: z.string().optional(), details: z.record(z.string(), z.unknown()).optional() })
    .nullable(),
  quality: Quality,
  /** The parameters a submit would run with; the seed is left out unless given. */
  params: EffectiveParams.omit({ seed: true }).extend({ seed: z.number().int().nullable() }),
  model: ModelRef,
  /** What one video would cost (the same estimate a job gets). */
  estimate: Cost,
});
export type PromptCheck = z.infer<typeof PromptCheck>;
