import { randomBytes } from 'node:crypto';
import type { Redis } from '@clickvid/core';

// Run with EVAL, as core's scripts are: a command defined on the client later (defineCommand) is missing from an
// auto-pipeline made before it, and ioredis then fails the command and throws outside any request.

/** Renews the claim if it still holds the value we wrote. */
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
/** Replaces the claim with its final value and TTL, if it is still ours. */
const COMMIT = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) return 1 end return 0`;
/** Drops the claim, if it is still ours. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** How long a claim lives without renewal: what a crash costs the next request with the same key. */
export const CLAIM_TTL_MS = 10_000;

/**
 * A short-lived claim on a key (SET NX PX), renewed while its owner works and turned
 * into the long-lived record only when the work is done. A crashed owner stops renewing,
 * so its claim is gone within `ttlMs` instead of holding the key for a day.
 */
export class Claim {
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly redis: Redis,
    readonly key: string,
    /** The exact value written; every later step checks it is still there (the claim may have expired and been taken). */
    readonly value: string,
    ttlMs: number,
  ) {
    // Renewed three times per TTL: a single late or failed renewal does not lose it.
    this.timer = setInterval(() => void redis.eval(RENEW, 1, key, value, ttlMs).catch(() => 0), Math.max(10, Math.floor(ttlMs / 3)));
    this.timer.unref();
  }

  /**
   * Takes the key if nobody holds it. `pending` is the value waiters read while the work
   * runs; it must be unique to this claimant (see {@link token}).
   */
  static async take(redis: Redis, key: string, pending: string, ttlMs = CLAIM_TTL_MS): Promise<Claim | null> {
    const ok = await redis.set(key, pending, 'PX', ttlMs, 'NX');
    return ok ? new Claim(redis, key, pending, ttlMs) : null;
  }

  /** A value unique to one claimant: what {@link take} needs when the payload alone could repeat. */
  static token(): string {
    return randomBytes(9).toString('base64url');
  }

  /** Stores the final value for `ttlS` seconds. False when the claim was lost meanwhile (expired and taken). */
  async commit(final: string, ttlS: number): Promise<boolean> {
    clearInterval(this.timer);
    return (await this.redis.eval(COMMIT, 1, this.key, this.value, final, ttlS)) === 1;
  }

  /** Gives the key up so a retry can run at once. */
  async release(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.eval(RELEASE, 1, this.key, this.value);
  }

  /** Stops renewing without touching the key (it expires on its own). */
  abandon(): void {
    clearInterval(this.timer);
  }
}
