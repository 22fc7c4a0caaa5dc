import { NO_TRACER, QUEUE_NAMES, signWebhook, type Redis, type TeamStore, type Tracer, type WebhookJobData } from '@clickvid/core';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { ApiError } from './errors.js';
import type { WebhookTargets } from './internal/webhook-url.js';

/**
 * Delivers job events from the `webhooks` queue, signed per Standard Webhooks.
 * At least once: a non-2xx answer or a network error is retried with exponential
 * backoff and jitter (see WEBHOOK_JOB_OPTIONS); the webhook-id stays the same.
 */
export function startWebhookSender(opts: {
  connection: Redis;
  teams: TeamStore;
  /** Checks the target on the exact address it connects to; never follows redirects. */
  targets: WebhookTargets;
  logger: Logger;
  /** A span per delivery attempt, a child of the job's submit span. @defaultValue NO_TRACER */
  tracer?: Tracer;
}): Worker<WebhookJobData> {
  const { teams, targets, logger } = opts;
  const tracer = opts.tracer ?? NO_TRACER;
  const worker = new Worker<WebhookJobData>(
    QUEUE_NAMES.webhooks,
    async (bj) => {
      if (!tracer.enabled) return deliver(bj);
      const span = tracer.start('webhook.deliver', {
        kind: 'client', parent: bj.data.trace,
        attributes: { 'clickvid.job_id': bj.data.jobId, 'clickvid.event': bj.data.type, 'clickvid.attempt': bj.attemptsMade + 1 },
      });
      try {
        await deliver(bj);
      } catch (err) {
        span.fail(err);
        throw err;
      } finally {
        span.end();
      }
    },
    { connection: opts.connection, concurrency: 16, autorun: true },
  );

  async function deliver(bj: Job<WebhookJobData>): Promise<void> {
    const { eventId, jobId, team, url, payload } = bj.data;
    const t = await teams.getTeam(team);
    if (!t) throw new UnrecoverableError(`team ${team} of job ${jobId} no longer exists`);
    // The snapshot the lifecycle script took when the job ended: every retry sends the same event.
    const body = payload;
    const ts = Math.floor(Date.now() / 1000);
    let status: number;
    try {
      status = await targets.post(url, body, {
        'content-type': 'application/json',
        'user-agent': 'clickvid-webhooks/1',
        'webhook-id': eventId,
        'webhook-timestamp': String(ts),
        'webhook-signature': signWebhook(t.webhookSecret, eventId, ts, body),
      });
    } catch (err) {
      // A target that is no longer public (DNS changed since submit) will not become so by retrying.
      if (err instanceof ApiError || (err as NodeJS.ErrnoException).code === 'ENOTPUBLIC') throw new UnrecoverableError((err as Error).message);
      throw err;
    }
    if (status === 410) throw new UnrecoverableError(`${url} answered 410 Gone: not retrying`);
    if (status < 200 || status >= 300) throw new Error(`${url} answered ${status}`);
    logger.debug({ eventId, url, attempt: bj.attemptsMade + 1 }, 'webhook delivered');
  }
  worker.on('failed', (bj, err) => {
    if (bj) logger.warn({ eventId: bj.data.eventId, attempt: bj.attemptsMade, err: err.message }, 'webhook delivery failed');
  });
  worker.on('error', (err) => logger.error({ err }, 'webhook worker error'));
  return worker;
}
