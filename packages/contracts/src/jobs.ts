import { z } from 'zod';
import { JobError } from './errors.js';

export const Quality = z.enum(['draft', 'standard', 'final']);
export type Quality = z.infer<typeof Quality>;

/** Lanes are separate queues so drafts never wait behind finals. */
export const Lane = z.enum(['draft', 'final']);
export type Lane = z.infer<typeof Lane>;

export const AspectRatio = z.enum(['1:1', '16:9', '9:16', '4:5']);
export type AspectRatio = z.infer<typeof AspectRatio>;

export const JobStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'canceled']);
export type JobStatus = z.infer<typeof JobStatus>;
export const TERMINAL_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'canceled'];

/**
 * Metadata text: no control characters (C0, DEL, C1). Nothing a tag needs, and they break
 * what tags flow into: log lines, CSV exports, the usage ledger's field encoding.
 */
const MetadataText = (max: number) => z.string().max(max).regex(/^\P{Cc}*$/u, 'must not contain control characters');

/** At most 16 keys (a job's own and, with `from_job`, those it inherits together). */
export const METADATA_MAX_KEYS = 16;
export const Metadata = z
  .record(MetadataText(40).min(1), MetadataText(500))
  .refine((m) => Object.keys(m).length <= METADATA_MAX_KEYS, { message: `at most ${METADATA_MAX_KEYS} metadata keys` });
export type Metadata = z.infer<typeof Metadata>;

export const JobId = z.string().regex(/^job_[0-9a-z]{10,40}$/, 'a job id looks like job_…');

/** POST /v1/generate */
export const GenerateRequest = z.strictObject({
  prompt: z.string().trim().min(1).max(500).optional(),
  quality: Quality.optional(),
  duration_s: z.number().min(0.25).max(30).optional(),
  fps: z.number().int().min(1).max(60).optional(),
  aspect_ratio: AspectRatio.optional(),
  seed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
  /** Iterate: inherit prompt, seed and parameters from this job; anything given here overrides. */
  from_job: JobId.optional(),
  webhook_url: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  /** String map; the `campaign` key tags cost in usage reports. */
  metadata: Metadata.optional(),
  /**
   * Seconds from now: a job not started by then is canceled at no charge (error
   * `deadline_exceeded`). Same as the `Cancel-After` header; this field wins when both are sent.
   */
  deadline_s: z.number().int().min(1).max(7 * 86_400).optional(),
});
export type GenerateRequest = z.infer<typeof GenerateRequest>;

/** POST /v1/jobs/{id}/promote */
export const PromoteRequest = z.strictObject({
  quality: Quality.default('final'),
  webhook_url: z.url({ protocol: /^https?$/ }).max(2048).optional(),
});
export type PromoteRequest = z.input<typeof PromoteRequest>;

/** The parameters a job actually runs with, after the tier's defaults. */
export const EffectiveParams = z.object({
  duration_s: z.number(),
  fps: z.number().int(),
  frames: z.number().int(),
  width: z.number().int(),
  height: z.number().int(),
  aspect_ratio: AspectRatio,
  seed: z.number().int(),
});
export type EffectiveParams = z.infer<typeof EffectiveParams>;

export const ModelRef = z.object({
  id: z.string(),
  version: z.string(),
  variant: z.string(),
  sha256: z.string(),
});
export type ModelRef = z.infer<typeof ModelRef>;

export const Cost = z.object({
  gpu_seconds: z.number(),
  credits: z.number(),
});
export type Cost = z.infer<typeof Cost>;

export const Usage = Cost.extend({
  batch_size: z.number().int(),
  breakdown: z.object({
    inference_s: z.number(),
    encode_s: z.number(),
  }),
});
export type Usage = z.infer<typeof Usage>;

export const Job = z.object({
  id: z.string(),
  object: z.literal('job'),
  status: JobStatus,
  quality: Quality,
  prompt: z.string(),
  params: EffectiveParams,
  /** Filled when the job is accepted; the version that rendered it. */
  model: ModelRef,
  /** 0..1 */
  progress: z.number(),
  /** 0 = next to run; null when not queued. */
  queue_position: z.number().int().nullable(),
  estimate: Cost,
  usage: Usage.nullable(),
  assets: z.object({ video: z.string(), poster: z.string() }).nullable(),
  /**
   * Signed, short-lived URLs of the video and poster, on a succeeded job in API answers (not in
   * webhooks), so a page shows a list of jobs without one request per asset. After `expires_at`,
   * read the job again or GET /v1/assets/{id}.
   */
  urls: z.object({ video: z.string(), poster: z.string(), expires_at: z.string() }).optional(),
  error: JobError.nullable(),
  /** Prompt words the model does not know, and other non-fatal notes. */
  warnings: z.array(z.string()),
  metadata: z.record(z.string(), z.string()),
  parent_job_id: z.string().nullable(),
  webhook_url: z.string().nullable(),
  cache_hit: z.boolean(),
  degraded: z.boolean(),
  attempts: z.number().int(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  /** Set from `deadline_s`: a job still queued at this time is canceled at no charge (error `deadline_exceeded`). */
  deadline_at: z.string().nullable().optional(),
  /**
   * When the job's files stop being kept (its tier's lifetime from the end of the job; a cache
   * hit's files live while any job that points at them does). After it the job's assets answer
   * 410 `asset_expired`. Null until the job succeeds, and for jobs stored before retention.
   */
  expires_at: z.string().nullable().default(null),
});
export type Job = z.infer<typeof Job>;

export const JobListQuery = z.object({
  status: JobStatus.optional(),
  quality: Quality.optional(),
  campaign: z.string().max(500).optional(),
  /** Only the jobs made from this one (promotions and `from_job` iterations): the lineage downwards. */
  parent: JobId.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});
export type JobListQuery = z.input<typeof JobListQuery>;

export const JobList = z.object({
  object: z.literal('list'),
  data: z.array(Job),
  next_cursor: z.string().nullable(),
});
export type JobList = z.infer<typeof JobList>;

/** One server-sent event on GET /v1/jobs/{id}/events (the `data:` JSON). */
export const JobEvent = z.object({
  type: z.enum(['status', 'progress', 'heartbeat', 'done']),
  job: Job.optional(),
});
export type JobEvent = z.infer<typeof JobEvent>;
