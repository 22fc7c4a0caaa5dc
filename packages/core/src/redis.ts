import { Redis, type RedisOptions } from 'ioredis';

/**
 * An ioredis connection. `maxRetriesPerRequest: null` is what BullMQ workers need
 * (a blocking command must not fail because a reconnect took a while).
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false, ...options });
}
export type { Redis };
