import { z } from 'zod';
import { Quality } from './jobs.js';

export const ModelTier = z.object({
  quality: Quality,
  variant: z.string(),
  precision: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  fps: z.number().int(),
  duration_s: z.number(),
  max_duration_s: z.number(),
  max_batch: z.number().int(),
  /** Measured ms of inference per video, by batch size. */
  ms_per_video: z.record(z.string(), z.number()),
  credits_per_gpu_second: z.number(),
  /** What one video at the tier's defaults is estimated to cost: the same figure a job's `estimate` gets. */
  estimate_gpu_seconds: z.number(),
});
export type ModelTier = z.infer<typeof ModelTier>;

export const ModelInfo = z.object({
  id: z.string(),
  object: z.literal('model'),
  version: z.string(),
  /** `stable` (the deployment's model) or `canary` (a candidate version getting a share of new jobs). */
  channel: z.enum(['stable', 'canary']),
  /** Share of new jobs routed to this version (0..1); jobs made from another job keep its version. */
  traffic_share: z.number(),
  description: z.string(),
  variants: z.array(z.object({ name: z.string(), precision: z.string(), sha256: z.string(), bytes: z.number().int(), width: z.number().int(), height: z.number().int() })),
  tiers: z.array(ModelTier),
  vocabulary: z.array(z.string()),
  aspect_ratios: z.array(z.string()),
});
export type ModelInfo = z.infer<typeof ModelInfo>;

export const ModelList = z.object({ object: z.literal('list'), data: z.array(ModelInfo) });
export type ModelList = z.infer<typeof ModelList>;
