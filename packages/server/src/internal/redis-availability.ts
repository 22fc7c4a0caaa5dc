import { isRedisUnavailable, type Redis } from '@clickvid/core';

/**
 * Whether the API's Redis is answering, as the last command that failed said. A request
 * makes several Redis calls in a row (rate limit, idempotency claim, the job write); when
 * Redis stops answering, each would wait out CLICKVID_REDIS_TIMEOUT_MS. Once one call has
 * failed for want of Redis, the others are not tried: rate limiting lets the request through
 * and /v1 answers 503 at once, until a PING answers again. So a request answers within one
 * timeout, not one per call.
 */
export class RedisAvailability {
  #down = false;

  constructor(
    private readonly redis: Redis,
    private readonly probeMs = 250,
  ) {}

  /** True from a failed call until Redis answers a probe. */
  get down(): boolean {
    return this.#down;
  }

  /** Hand it any error: one that says Redis is unreachable marks it down and starts the probe. */
  report(err: unknown): void {
    if (this.#down || !isRedisUnavailable(err)) return;
    this.#down = true;
    const probe = () => {
      this.redis.ping().then(
        () => {
          this.#down = false;
        },
        () => setTimeout(probe, this.probeMs).unref(),
      );
    };
    setTimeout(probe, this.probeMs).unref();
  }
}
