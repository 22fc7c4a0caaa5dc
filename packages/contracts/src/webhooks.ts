import { z } from 'zod';
import { Job } from './jobs.js';

export const WebhookEventType = z.enum(['job.succeeded', 'job.failed', 'job.canceled']);
export type WebhookEventType = z.infer<typeof WebhookEventType>;

/** The JSON body POSTed to a job's webhook_url (Standard Webhooks). */
export const WebhookEvent = z.object({
  type: WebhookEventType,
  timestamp: z.string(),
  data: Job,
});
export type WebhookEvent = z.infer<typeof WebhookEvent>;

export const WebhookDeliveryId = z.string().regex(/^dlv_[0-9a-z]{1,60}$/).describe('`dlv_…`');
export type WebhookDeliveryId = z.infer<typeof WebhookDeliveryId>;

/** `pending` until it is answered 2xx (`succeeded`) or given up on (`failed`: attempts exhausted, 410 Gone, or a target that is not public). */
export const WebhookDeliveryStatus = z.enum(['pending', 'succeeded', 'failed']);
export type WebhookDeliveryStatus = z.infer<typeof WebhookDeliveryStatus>;

/**
 * One delivery of a webhook event to a job's `webhook_url`: the original one, or a replay
 * of it (`replay_of`). Kept 7 days. A replay sends the same stored body, with the same
 * `webhook-id` (`event_id`), so a receiver that deduplicates on it sees it once.
 */
export const WebhookDelivery = z.object({
  id: WebhookDeliveryId,
  object: z.literal('webhook_delivery'),
  /** The `webhook-id` header: the same for every attempt and every replay of one event. */
  event_id: z.string(),
  job_id: z.string(),
  type: WebhookEventType,
  url: z.string(),
  status: WebhookDeliveryStatus,
  /** Attempts made so far (a retry of a failed attempt counts). */
  attempts: z.number().int().min(0),
  /** The HTTP status of the last attempt; null before one, or when it did not get an answer (network error). */
  last_status_code: z.number().int().nullable(),
  /** Why the last attempt failed; null when it succeeded or none was made. */
  last_error: z.string().nullable(),
  /** When the next attempt is due (ISO 8601); null unless a retry is scheduled. */
  next_retry_at: z.string().nullable(),
  created_at: z.string(),
  /** When a 2xx answer came; null until then. */
  delivered_at: z.string().nullable(),
  /** The delivery this one replays; null for an original delivery. */
  replay_of: WebhookDeliveryId.nullable(),
});
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

export const WebhookDeliveryListQuery = z.object({
  /** Only the deliveries of this job's events. */
  job_id: z.string().max(64).optional(),
  status: WebhookDeliveryStatus.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});
export type WebhookDeliveryListQuery = z.input<typeof WebhookDeliveryListQuery>;

export const WebhookDeliveryList = z.object({
  object: z.literal('list'),
  data: z.array(WebhookDelivery),
  next_cursor: z.string().nullable(),
});
export type WebhookDeliveryList = z.infer<typeof WebhookDeliveryList>;
