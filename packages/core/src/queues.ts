import type { Lane, Quality } from '@clickvid/contracts';
import { Queue, type ConnectionOptions } from 'bullmq';
import { QUEUE_NAMES } from './keys.js';
import type { TraceParent } from './tracing.js';

/** Drafts get their own lane so they never wait behind finals; standard shares the final lane. */
export const laneFor = (quality: Quality): Lane => (quality === 'draft' ? 'draft' : 'final');

/** What a BullMQ job carries: the record itself lives in the JobStore. */
export interface RenderJobData {
  jobId: string;
  team: string;
  /** The submit's span (W3C traceparent) when tracing is on: the worker's spans are its children. */
  trace?: TraceParent;
}

export interface WebhookJobData {
  /** Stable across retries and replays: the webhook-id header. */
  eventId: string;
  /**
   * The delivery record this job updates (DeliveryStore), also the BullMQ job id. Absent
   * on jobs queued before deliveries were recorded: those are sent without a record.
   */
  deliveryId?: string;
  jobId: string;
  team: string;
  url: string;
  type: 'job.succeeded' | 'job.failed' | 'job.canceled';
  /** The event body as the lifecycle script wrote it when the job ended: what is signed and sent. */
  payload: string;
  /** The job's submit span (W3C traceparent), when it was traced: the delivery's parent. */
  trace?: TraceParent;
}

export function createQueues(connection: ConnectionOptions) {
  return {
    draft: new Queue<RenderJobData>(QUEUE_NAMES.draft, { connection }),
    final: new Queue<RenderJobData>(QUEUE_NAMES.final, { connection }),
    webhooks: new Queue<WebhookJobData>(QUEUE_NAMES.webhooks, { connection }),
  };
}
export type Queues = ReturnType<typeof createQueues>;

/** Render retries: transient failures back off 0.5 s, 1 s, 2 s; bad input is never retried. */
export const RENDER_JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 500, jitter: 0.3 },
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 24 * 3600 },
} as const;

/** BullMQ priority: lower runs first. Within the final lane, standard goes before final. */
export const renderPriority = (q: Quality) => (q === 'final' ? 10 : q === 'standard' ? 5 : 1);

/** The BullMQ options of a job's render entry; its BullMQ id is the job id, so adding twice adds once. */
export const renderJobOptions = (jobId: string, quality: Quality) => ({ ...RENDER_JOB_OPTIONS, jobId, priority: renderPriority(quality) });
