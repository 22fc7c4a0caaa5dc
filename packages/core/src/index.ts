/** @clickvid/core: what the server and the worker share. */
export { loadConfig, loadConfigOrExit, ConfigError, REPO_ROOT, CRASH_POINTS, crashAt, DEFAULT_TEAM_EVENTS, type Config, type CrashPoint, type TeamEventsRetention } from './config.js';
export { newId } from './ids.js';
export { keys, QUEUE_NAMES } from './keys.js';
export { createRedis, createServerRedis, fieldsOf, isRedisUnavailable, redisReady, type Redis } from './redis.js';
export { JobStore, type StoredJob, type JobUpdate } from './job-store.js';
export { JobLifecycle, newAttemptToken, type AcceptSpec, type AcceptOutcome, type Attempt, type Verdict } from './lifecycle.js';
export { WebhookOutbox, OUTBOX_CLAIM_IDLE_MS } from './outbox.js';
export { dailyQuotaSeconds } from './quota.js';
export { ModelManifest, type ManifestTier, type ManifestVariant } from './manifest.js';
export { Tokenizer, type TextSpec, type Tokens } from './tokenizer.js';
export { CostEstimator } from './cost-calibration.js';
export { ModelRegistry, ModelError, mulberry32, sha256File, type EncodedPrompt, type ResolvedVariant } from './model-registry.js';
export { ModelVersions, modelDigest, routePoint, canonicalJson, type ServedVersion } from './model-versions.js';
export type { Storage, PutOptions, ByteRange, SignedUrlOptions } from './storage/types.js';
export { LocalStorage } from './storage/local.js';
export { S3Storage, type S3Options } from './storage/s3.js';
export { createStorage } from './storage/index.js';
export { assetSignature, verifyAssetSignature, type SignatureCheck } from './storage/signing.js';
export { AssetStore, assetExpired, assetFileName, type AssetRecord } from './assets.js';
export {
  TeamStore, TeamStoreError, applySettings, hashApiKey, newApiKey, newWebhookSecret, type Team, type KeyAuth, type TeamStoreErrorCode,
} from './teams.js';
export { UsageLedger, utcDay, round, toMicros } from './usage-ledger.js';
export { creditsThisMonth } from './spend.js';
export { laneFor, createQueues, RENDER_JOB_OPTIONS, renderJobOptions, renderPriority, type Queues, type RenderJobData, type WebhookJobData } from './queues.js';
export { startHeartbeat, liveWorkers, HEARTBEAT_MS } from './heartbeat.js';
export { createLogger, type Logger } from './logger.js';
export { PipelineManifest, FlowMatchEulerConfig, TensorRole, PipelineTokenizer, type PipelineTensor, type PipelineManifestTier } from './pipeline-manifest.js';
export {
  loadPipeline,
  verifyPipelineFile,
  tensorFor,
  hasTensor,
  latentFrames,
  decodeFrames,
  latentShape,
  snapFrames,
  DEFAULT_VARIANT,
  type Pipeline,
  type PipelineFile,
  type PipelineTier,
  type Component,
  type Denoiser,
  type Decoder,
  type LatentSpec,
} from './pipeline.js';
export { seededNoise } from './noise.js';
export { contentKey, OutputCache, CACHE_HIT_USAGE, assetsFromCache, cachedAsset, hitCapMs, type CachedOutput, type CachedAsset } from './output-cache.js';
export {
  attemptKey, ATTEMPT_FILES, fileSetOf, isManagedFileSet, jobExpiry, tierPrefix, sweepOnce, startSweeper, RECORD_TTL_MARGIN_S, SWEEP_LEASE_MS,
  type Retention, type Expiry, type SweepReport,
} from './retention.js';
export { s3LifecycleConfiguration } from './storage/s3-lifecycle.js';
export { DELIVERY_TTL_S, WEBHOOK_JOB_OPTIONS, WEBHOOK_RETRY, webhookRetryDelay } from './webhook-events.js';
export {
  DeliveryStore, DELIVERY_INDEX_MAX, deliveryJob, newDeliveryId, originalDeliveryId, type AttemptOutcome, type NewDelivery, type StoredDelivery,
} from './deliveries.js';
export { createTracer, NO_TRACER, type Tracer, type TraceSpan, type TraceParent, type SpanOptions, type SpanKind } from './tracing.js';
export { collectProcessMetrics } from './process-metrics.js';
export { ClusterMetrics, HISTOGRAMS, COUNTERS, counterFields, histogramFields, jobLabels, type HistogramName, type CounterName, type MetricField } from './cluster-metrics.js';
