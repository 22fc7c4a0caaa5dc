/** @clickvid/core: what the server and the worker share. */
export { loadConfig, loadConfigOrExit, ConfigError, REPO_ROOT, type Config } from './config.js';
export { newId } from './ids.js';
export { keys, QUEUE_NAMES } from './keys.js';
export { createRedis, type Redis } from './redis.js';
export { JobStore, type StoredJob, type JobUpdate } from './job-store.js';
export { ModelManifest, type ManifestTier, type ManifestVariant } from './manifest.js';
export { Tokenizer, type TextSpec, type Tokens } from './tokenizer.js';
export { ModelRegistry, ModelError, mulberry32, sha256File, type EncodedPrompt, type ResolvedVariant } from './model-registry.js';
export type { Storage, PutOptions } from './storage/types.js';
export { LocalStorage } from './storage/local.js';
export { S3Storage, type S3Options } from './storage/s3.js';
export { createStorage } from './storage/index.js';
export { assetSignature, verifyAssetSignature, type SignatureCheck } from './storage/signing.js';
export { AssetStore, type AssetRecord } from './assets.js';
export { TeamStore, hashApiKey, newApiKey, newWebhookSecret, type Team } from './teams.js';
export { UsageLedger, utcDay, round } from './usage-ledger.js';
export { laneFor, createQueues, RENDER_JOB_OPTIONS, type Queues, type RenderJobData, type WebhookJobData } from './queues.js';
export { startHeartbeat, liveWorkers, HEARTBEAT_MS } from './heartbeat.js';
export { createLogger, type Logger } from './logger.js';
export { PipelineManifest, FlowMatchEulerConfig, TensorRole, PipelineTokenizer, type PipelineTensor, type PipelineManifestTier } from './pipeline-manifest.js';
export {
  loadPipeline,
  verifyPipelineFile,
  tensorFor,
  hasTensor,
  latentFrames,
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
export { contentKey, OutputCache, CACHE_HIT_USAGE, assetsFromCache, cachedAsset, type CachedOutput, type CachedAsset } from './output-cache.js';
export { enqueueJobWebhook, signWebhook, WEBHOOK_JOB_OPTIONS } from './webhook-events.js';
export { ClusterMetrics, HISTOGRAMS, COUNTERS, type HistogramName, type CounterName } from './cluster-metrics.js';
