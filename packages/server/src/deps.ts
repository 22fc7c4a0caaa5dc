import {
  AssetStore, createQueues, createRedis, createStorage, JobLifecycle, JobStore, ModelRegistry, OutputCache, TeamStore, UsageLedger,
  type Config, type Queues, type Redis, type Storage,
} from '@clickvid/core';
import { JobEvents } from './events.js';
import { Idempotency } from './idempotency.js';
import { JobsService } from './jobs-service.js';
import { createMetrics, type Metrics } from './metrics.js';

/** Everything the routes use, built once per process from the config. No container: a plain object. */
export interface Deps {
  config: Config;
  redis: Redis;
  sub: Redis;
  store: JobStore;
  lifecycle: JobLifecycle;
  assets: AssetStore;
  teams: TeamStore;
  ledger: UsageLedger;
  registry: ModelRegistry;
  storage: Storage;
  queues: Queues;
  cache: OutputCache;
  idempotency: Idempotency;
  events: JobEvents;
  metrics: Metrics;
  jobs: JobsService;
  close(): Promise<void>;
}

export async function createDeps(config: Config, registry = ModelRegistry.load(config.model.dir, config.model.name)): Promise<Deps> {
  // Auto-pipelining: the single commands of all requests in one event-loop turn (idempotency
  // keys, job reads) go to Redis in one write. BullMQ gets a plain connection of its own:
  // it defines 66 scripts on its connection, and ioredis copies them into every pipeline
  // and transaction made on it (~35 µs each).
  const redis = createRedis(config.redisUrl, { enableAutoPipelining: true });
  const queueConn = createRedis(config.redisUrl);
  const sub = createRedis(config.redisUrl);
  const store = new JobStore(redis);
  const lifecycle = new JobLifecycle(redis, config.jobTtlS);
  const assets = new AssetStore(redis, config.jobTtlS);
  const teams = new TeamStore(redis);
  const ledger = new UsageLedger(redis);
  const storage = createStorage(config);
  const queues = createQueues(queueConn);
  const cache = new OutputCache(redis, config.jobTtlS);
  const metrics = createMetrics(redis, store);
  const events = new JobEvents(sub);
  await events.start();
  const jobs = new JobsService({ config, redis, store, lifecycle, registry, queues, cache, storage, metrics });
  return {
    config, redis, sub, store, lifecycle, assets, teams, ledger, registry, storage, queues, cache, metrics, events, jobs,
    idempotency: new Idempotency(redis),
    async close() {
      await Promise.allSettled([queues.draft.close(), queues.final.close(), queues.webhooks.close()]);
      await storage.close?.();
      sub.disconnect();
      await Promise.all([redis, queueConn].map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
