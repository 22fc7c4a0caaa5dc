import type { Redis } from 'ioredis';
import { keys } from './keys.js';

export const HEARTBEAT_MS = 3000;
const STALE_MS = 15_000;

/** Records a worker as alive every few seconds; /readyz counts live workers. Returns stop(). */
export function startHeartbeat(redis: Redis, workerId: string): () => Promise<void> {
  const beat = () => redis.zadd(keys.workers(), Date.now(), workerId).catch(() => undefined);
  void beat();
  const timer = setInterval(beat, HEARTBEAT_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await redis.zrem(keys.workers(), workerId).catch(() => undefined);
  };
}

/** Workers seen in the last 15 s (and forgets ones gone for long). */
export async function liveWorkers(redis: Redis): Promise<number> {
  const now = Date.now();
  await redis.zremrangebyscore(keys.workers(), '-inf', now - 10 * STALE_MS);
  return redis.zcount(keys.workers(), now - STALE_MS, '+inf');
}
