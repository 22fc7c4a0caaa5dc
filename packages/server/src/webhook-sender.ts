import { QUEUE_NAMES, signWebhook, type Config, type Redis, type TeamStore, type WebhookJobData } from '@clickvid/core';
import { UnrecoverableError, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { ApiError } from './errors.js';
import { assertWebhookTarget } from './internal/webhook-url.js';

/**
 * Delivers job events from the `webhooks` queue, signed per Standard Webhooks.
 * At least once: a non-2xx answer or a network error is retried with exponential
 * backoff and jitter (see WEBHOOK_JOB_OPTIONS); the webhook-id stays the same.
 */
export function startWebhookSender(opts: {
  config: Config;
  connection: Redis;
  teams: TeamStore;
  logger: Logger;
}): Worker<WebhookJobData> {
  const { config, teams, logger } = opts;
  const worker = new Worker<WebhookJobData>(
    QUEUE_NAMES.webhooks,
    async (bj) => {
      const { eventId, jobId, team, url, payload } = bj.data;
      const t = await teams.getTeam(team);
      if (!t) throw new UnrecoverableError(`team ${team} of job ${jobId} no longer exists`);
      try {
        // Checked again at delivery: DNS may have changed since submit.
        await assertWebhookTarget(url, config.allowPrivateWebhooks);
      } catch (err) {
        throw new UnrecoverableError(err instanceof ApiError ? err.message : String(err));
      }
      // The snapshot the lifecycle script took when the job ended: every retry sends the same event.
      const body = payload;
      const ts = Math.floor(Date.now() / 1000);
      const res = await fetch(url, {
        method: 'POST',
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(10_000),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'clickvid-webhooks/1',
          'webhook-id': eventId,
          'webhook-timestamp': String(ts),
          'webhook-signature': signWebhook(t.webhookSecret, eventId, ts, body),
        },
      });
      await res.body?.cancel().catch(() => undefined);
      if (res.status === 410) throw new UnrecoverableError(`${url} answered 410 Gone: not retrying`);
      if (res.status < 200 || res.status >= 300) throw new Error(`${url} answered ${res.status}`);
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
