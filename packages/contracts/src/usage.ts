import { z } from 'zod';
import { Quality } from './jobs.js';

export const UsageQuery = z.object({
  from: z.iso.date().optional(),
  to: z.iso.date().optional(),
});
export type UsageQuery = z.infer<typeof UsageQuery>;

export const UsageRow = z.object({
  day: z.string(),
  quality: Quality,
  /** The model version that rendered these jobs (null for usage recorded before versions were split). */
  model_version: z.string().nullable(),
  campaign: z.string().nullable(),
  jobs: z.number().int(),
  gpu_seconds: z.number(),
  credits: z.number(),
});
export type UsageRow = z.infer<typeof UsageRow>;

export const UsageReport = z.object({
  object: z.literal('usage'),
  team: z.string(),
  from: z.string(),
  to: z.string(),
  data: z.array(UsageRow),
  totals: z.object({ jobs: z.number().int(), gpu_seconds: z.number(), credits: z.number() }),
  quota: z.object({ gpu_seconds_per_day: z.number().nullable(), used_today: z.number() }),
});
export type UsageReport = z.infer<typeof UsageReport>;
