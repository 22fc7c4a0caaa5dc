import { QUEUE_NAMES, signWebhook, type Redis, type TeamStore, type WebhookJobData } from '@clickvid/core';
import { UnrecoverableError, Worker } from 'bullmq';
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
}): Worker<WebhookJobData> {
  const { teams, targets, logger } = opts;
  const worker = new Worker<WebhookJobData>(
    QUEUE_NAMES.webhooks,
    async (bj) => {
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
    },
    { connection: opts.connection, concurrency: 16, autorun: true },
  );
  worker.on('failed', (bj, err) => {
    if (bj) logger.warn({ eventId: bj.data.eventId, attempt: bj.attemptsMade, err: err.message }, 'webhook delivery failed');
  });
  worker.on('error', (err) => logger.error({ err }, 'webhook worker error'));
  return worker;
}
