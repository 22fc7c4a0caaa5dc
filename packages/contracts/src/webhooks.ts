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
