import { createHmac } from 'node:crypto';
import type { Job } from '@clickvid/contracts';
import type { Queue } from 'bullmq';
import type { WebhookJobData } from './queues.js';

const EVENT_OF: Partial<Record<Job['status'], WebhookJobData['type']>> = {
  succeeded: 'job.succeeded',
  failed: 'job.failed',
  canceled: 'job.canceled',
};

/** Delivery retries: exponential with jitter, 2 s doubling, over about 9 hours. */
export const WEBHOOK_JOB_OPTIONS = {
  attempts: 15,
  backoff: { type: 'exponential', delay: 2000, jitter: 0.5 },
  removeOnComplete: { age: 24 * 3600 },
  removeOnFail: { age: 7 * 24 * 3600 },
} as const;

/**
 * Queues the webhook for a job that reached a terminal state. The BullMQ job id is the
 * event id, so enqueueing the same event twice delivers once.
 */
export async function enqueueJobWebhook(queue: Queue<WebhookJobData>, job: Job, team: string): Promise<void> {
  const type = EVENT_OF[job.status];
  if (!type || !job.webhook_url) return;
  const eventId = `evt_${job.id.slice(4)}_${job.status}`;
  await queue.add(type, { eventId, jobId: job.id, team, url: job.webhook_url, type }, { ...WEBHOOK_JOB_OPTIONS, jobId: eventId });
}

/** Standard Webhooks signature: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body` with the secret's key. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

