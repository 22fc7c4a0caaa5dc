import { DeliveryStore, NO_TRACER, QUEUE_NAMES, webhookRetryDelay, type Redis, type TeamStore, type Tracer, type WebhookJobData } from '@clickvid/core';
import { Webhooks } from '@clickvid/sdk';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { ApiError } from './errors.js';
import type { WebhookTargets } from './internal/webhook-url.js';

/** The SDK's signer (one implementation of Standard Webhooks for both ends); the secret is passed per call. */
const signer = new Webhooks(undefined);

/**
 * A failed attempt that will be retried after `retryDelayMs`: the delay written to the
 * delivery record as `next_retry_at`, and what the worker's backoffStrategy answers BullMQ.
 */
class RetryableDeliveryError extends Error {
  constructor(message: string, readonly retryDelayMs: number) {
    super(message);
  }
}

/**
 * Delivers job events from the `webhooks` queue, signed per Standard Webhooks.
 * At least once: a non-2xx answer or a network error is retried with exponential
 * backoff and jitter (webhookRetryDelay); the webhook-id stays the same. Each attempt is
 * written to the delivery record (DeliveryStore): attempts, last status code or error, and
 * when the retry is due, or `failed` once attempts are spent or the failure is final (410
 * Gone, a target that is not public).
 */
export function startWebhookSender(opts: {
  connection: Redis;
  teams: TeamStore;
  /** Checks the target on the exact address it connects to; never follows redirects. */
  targets: WebhookTargets;
  logger: Logger;
  /** A span per delivery attempt, a child of the job's submit span. @defaultValue NO_TRACER */
  tracer?: Tracer;
  /** Where attempts are recorded. @defaultValue a DeliveryStore on `connection` */
  deliveries?: DeliveryStore;
}): Worker<WebhookJobData> {
  const { teams, targets, logger } = opts;
  const tracer = opts.tracer ?? NO_TRACER;
  const deliveries = opts.deliveries ?? new DeliveryStore(opts.connection);
  const worker = new Worker<WebhookJobData>(
    QUEUE_NAMES.webhooks,
    async (bj) => {
      if (!tracer.enabled) return attempt(bj);
      const span = tracer.start('webhook.deliver', {
        kind: 'client', parent: bj.data.trace,
        attributes: { 'clickvid.job_id': bj.data.jobId, 'clickvid.event': bj.data.type, 'clickvid.attempt': bj.attemptsMade + 1 },
      });
      try {
        await attempt(bj);
      } catch (err) {
        span.fail(err);
        throw err;
      } finally {
        span.end();
      }
    },
    {
      connection: opts.connection,
      concurrency: 16,
      autorun: true,
      settings: {
        // The delay the attempt chose and recorded; jobs queued before that (or failures
        // that skipped the record, e.g. Redis errors) get the same policy afresh.
        backoffStrategy: (attemptsMade, _type, err) => (err instanceof RetryableDeliveryError ? err.retryDelayMs : webhookRetryDelay(attemptsMade)),
      },
    },
  );

  /** One attempt: send, then record what happened and decide between done, retry and give up. */
  async function attempt(bj: Job<WebhookJobData>): Promise<void> {
    const n = bj.attemptsMade + 1;
    let code: number | null = null;
    let failure: Error | null = null;
    try {
      code = await send(bj);
      if (code === 410) failure = new UnrecoverableError(`${bj.data.url} answered 410 Gone: not retrying`);
      else if (code < 200 || code >= 300) failure = new Error(`${bj.data.url} answered ${code}`);
    } catch (err) {
      failure = err as Error;
    }
    const { deliveryId } = bj.data;
    if (!failure) {
      logger.debug({ eventId: bj.data.eventId, deliveryId, url: bj.data.url, attempt: n }, 'webhook delivered');
      // Delivered: a record that cannot be written now must not turn into a second delivery.
      if (deliveryId) {
        await deliveries.recordAttempt(deliveryId, { attempts: n, status: 'succeeded', statusCode: code, error: null, nextRetryAt: null })
          .catch((err: unknown) => logger.warn({ err, deliveryId }, 'webhook delivered but its record was not updated'));
      }
      return;
    }
    const final = failure instanceof UnrecoverableError || n >= (bj.opts.attempts ?? 1);
    const delay = final ? 0 : webhookRetryDelay(n);
    if (deliveryId) {
      await deliveries.recordAttempt(deliveryId, {
        attempts: n, status: final ? 'failed' : 'pending', statusCode: code, error: failure.message, nextRetryAt: final ? null : new Date(Date.now() + delay),
      });
    }
    throw final ? failure : new RetryableDeliveryError(failure.message, delay);
  }

  /** POSTs the stored body, signed; answers the status code. Throws UnrecoverableError where retrying cannot help. */
  async function send(bj: Job<WebhookJobData>): Promise<number> {
    const { eventId, jobId, team, url, payload } = bj.data;
    const t = await teams.getTeam(team);
    if (!t) throw new UnrecoverableError(`team ${team} of job ${jobId} no longer exists`);
    // The snapshot the lifecycle script took when the job ended: every retry and replay sends the same bytes.
    const headers = signer.sign(payload, t.webhookSecret, { id: eventId });
    try {
      return await targets.post(url, payload, { 'content-type': 'application/json', 'user-agent': 'clickvid-webhooks/1', ...headers });
    } catch (err) {
      // A target that is no longer public (DNS changed since submit) will not become so by retrying.
      if (err instanceof ApiError || (err as NodeJS.ErrnoException).code === 'ENOTPUBLIC') throw new UnrecoverableError((err as Error).message);
      throw err;
    }
  }

  worker.on('failed', (bj, err) => {
    if (bj) logger.warn({ eventId: bj.data.eventId, deliveryId: bj.data.deliveryId, attempt: bj.attemptsMade, err: err.message }, 'webhook delivery failed');
  });
  worker.on('error', (err) => logger.error({ err }, 'webhook worker error'));
  return worker;
}
