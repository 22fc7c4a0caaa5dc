import { Redis, type RedisOptions } from 'ioredis';

/**
 * An ioredis connection. `maxRetriesPerRequest: null` is what BullMQ workers need
 * (a blocking command must not fail because a reconnect took a while).
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false, ...options });
}

/**
 * A connection for request paths (the API server), which must answer fast when Redis is
 * down rather than wait for it, and must leave nothing behind a request that failed:
 * - `enableOfflineQueue: false`: a command issued while disconnected fails at once
 *   instead of queueing until Redis returns (that queue was the hang, and it replayed
 *   the writes of requests long since answered);
 * - `maxRetriesPerRequest: 0` and `autoResendUnfulfilledCommands: false`: commands in
 *   flight when the connection drops fail on the spot and are never resent;
 * - `commandTimeout`: bounds a reply from a Redis that stopped answering without closing
 *   the connection (paused, partitioned).
 * BullMQ's docs advise the same for queues that add jobs from HTTP handlers.
 */
export function createServerRedis(url: string, timeoutMs: number, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    enableReadyCheck: true,
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: timeoutMs,
    connectTimeout: timeoutMs,
    ...options,
  });
}

/** Resolves when the connection is ready (commands would otherwise fail without an offline queue). */
export function redisReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`Redis was not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}

const UNAVAILABLE_MESSAGES = [
  'Connection is closed.',
  "Stream isn't writeable",
  'Command timed out',
  'Reached the max retries per request limit',
];
const UNAVAILABLE_REPLIES = /^(LOADING|MASTERDOWN|TRYAGAIN|CLUSTERDOWN)\b/;
const UNAVAILABLE_SYSCALL = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTCONN']);

/**
 * True when `err` says Redis could not be reached or is not serving yet, as opposed to
 * a bug or a refused command: the API answers those with 503, not 500.
 */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'MaxRetriesPerRequestError') return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && UNAVAILABLE_SYSCALL.has(code)) return true;
  if (UNAVAILABLE_MESSAGES.some((m) => err.message.startsWith(m))) return true;
  return UNAVAILABLE_REPLIES.test(err.message);
}
/** A reply of field/value pairs (HGETALL inside a script, a stream entry's fields) as a record. */
export function fieldsOf(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

export type { Redis };
