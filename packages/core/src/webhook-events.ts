/**
 * How long a webhook delivery is kept: its record and team index entry (DeliveryStore), and
 * its BullMQ job once it has failed for good. 7 days: long enough to notice and replay.
 */
export const DELIVERY_TTL_S = 7 * 24 * 3600;

/** The retry policy of webhook deliveries: exponential from 2 s, doubling, with up to half of each delay taken off at random. */
export const WEBHOOK_RETRY = { attempts: 15, delayMs: 2000, jitter: 0.5 } as const;

/**
 * BullMQ options of a delivery job. Backoff is 'custom': the sender's backoffStrategy
 * answers the delay it chose with {@link webhookRetryDelay} and wrote to the delivery record
 * as `next_retry_at`, so the record says when the retry really comes. Over about 9 hours.
 */
export const WEBHOOK_JOB_OPTIONS = {
  attempts: WEBHOOK_RETRY.attempts,
  backoff: { type: 'custom' },
  removeOnComplete: { age: 24 * 3600 },
  removeOnFail: { age: DELIVERY_TTL_S },
} as const;

/**
 * The delay before retrying after failed attempt `attempt` (1-based): 2 s · 2^(attempt−1),
 * less a random share of up to {@link WEBHOOK_RETRY}.jitter of it (BullMQ's own exponential
 * formula, which the deliveries used before they were recorded).
 */
export function webhookRetryDelay(attempt: number, random: () => number = Math.random): number {
  const max = Math.round(2 ** (Math.max(1, attempt) - 1) * WEBHOOK_RETRY.delayMs);
  return Math.floor(random() * max * WEBHOOK_RETRY.jitter + max * (1 - WEBHOOK_RETRY.jitter));
}
