import {
  AssetStore, CostEstimator, DeliveryStore, createQueues, createTracer, createRedis, createServerRedis, createStorage, redisReady, JobLifecycle, JobStore, ModelRegistry, ModelVersions, OutputCache, TeamStore, UsageLedger,
  type Config, type Queues, type Redis, type Storage, type Tracer,
} from '@clickvid/core';
import { Authenticator } from './auth.js';
import { JobEvents } from './events.js';
import { Idempotency } from './idempotency.js';
import { RedisAvailability } from './internal/redis-availability.js';
import { StreamSlots } from './internal/stream-slots.js';
import { JobsService } from './jobs-service.js';
import { WebhookTargets } from './internal/webhook-url.js';
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
  auth: Authenticator;
  ledger: UsageLedger;
  /** The stable model version (CLICKVID_MODEL). */
  registry: ModelRegistry;
  /** The registry's estimates scaled by what jobs were metered: quotas reserve these. */
  estimator: CostEstimator;
  /** Every version served: the stable one and its manifest's canary. */
  models: ModelVersions;
  storage: Storage;
  queues: Queues;
  cache: OutputCache;
  idempotency: Idempotency;
  /** The per-team cap on open event streams. */
  streams: StreamSlots;
  events: JobEvents;
  metrics: Metrics;
  jobs: JobsService;
  /** Webhook delivery records: listed, read and replayed by /v1/webhooks/deliveries. */
  deliveries: DeliveryStore;
  /** Where webhooks may go: checked at submit and again at connect time by the sender. */
  webhookTargets: WebhookTargets;
  /** OpenTelemetry spans (HTTP requests, webhook deliveries); a no-op, with no SDK loaded, when tracing is off. */
  tracer: Tracer;
  /** Whether Redis answers, as the last failed call said: requests stop trying once one call found it gone. */
  redisAvailability: RedisAvailability;
  close(): Promise<void>;
}

export async function createDeps(config: Config, registry = ModelRegistry.load(config.model.dir, config.model.name)): Promise<Deps> {
  // Auto-pipelining: the single commands of all requests in one event-loop turn (idempotency
  // keys, job reads) go to Redis in one write. BullMQ gets a connection of its own:
  // it defines 66 scripts on its connection, and ioredis copies them into every pipeline
  // and transaction made on it (~35 µs each). Both fail fast while Redis is down (see
  // createServerRedis): a request answers 503 instead of hanging, and nothing it sent is
  // replayed after it was answered. The subscriber keeps the default: it only listens.
  const redis = createServerRedis(config.redisUrl, config.redisTimeoutMs, { enableAutoPipelining: true });
  const queueConn = createServerRedis(config.redisUrl, config.redisTimeoutMs);
  const sub = createRedis(config.redisUrl);
  // An outage is reported by /readyz and by every request's 503; without a listener ioredis
  // would print each reconnect failure to stderr.
  for (const c of [redis, queueConn, sub]) c.on('error', () => undefined);
  // Without an offline queue, commands sent before the connection is ready would fail.
  await Promise.all([redisReady(redis, 30_000), redisReady(queueConn, 30_000)]);
  const store = new JobStore(redis);
  const lifecycle = new JobLifecycle(redis, config.retention, config.teamEvents);
  const assets = new AssetStore(redis, config.retention.filesS.final);
  const teams = new TeamStore(redis, config.teamDefaults);
  const ledger = new UsageLedger(redis);
  const storage = createStorage(config);
  const queues = createQueues(queueConn);
  const cache = new OutputCache(redis, config.retention.filesS.final);
  const metrics = createMetrics(redis, store);
  const auth = new Authenticator(teams, sub);
  await auth.start();
  const events = new JobEvents(sub);
  await events.start();
  const webhookTargets = new WebhookTargets({ allowPrivate: config.allowPrivateWebhooks });
  const estimator = new CostEstimator(redis);
  await estimator.start();
  const tracer = await createTracer(config, 'clickvid-server');
  const models = ModelVersions.from(registry, config.model.dir);
  const jobs = new JobsService({ config, redis, store, lifecycle, models, estimator, queues, cache, storage, metrics, webhookTargets, ledger, assets });
  return {
    config, redis, sub, store, lifecycle, assets, teams, ledger, registry, models, estimator, storage, queues, cache, metrics, events, jobs, webhookTargets, tracer,
    idempotency: new Idempotency(redis),
    deliveries: new DeliveryStore(redis),
    auth,
    streams: new StreamSlots(redis, config.sseMaxStreamsPerTeam),
    redisAvailability: new RedisAvailability(redis),
    async close() {
      estimator.stop();
      await Promise.allSettled([queues.draft.close(), queues.final.close(), queues.webhooks.close()]);
      await auth.close();
      await storage.close?.();
      await webhookTargets.close();
      await tracer.shutdown().catch(() => undefined);
      sub.disconnect();
      await Promise.all([redis, queueConn].map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
