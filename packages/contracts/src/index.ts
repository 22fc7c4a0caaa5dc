/**
 * @clickvid/contracts: the public HTTP API as zod schemas. The server validates
 * with them, the SDK parses with them, and /openapi.json is generated from them.
 */
export { ERROR_CATALOGUE, ErrorCode, ErrorBody, JobError } from './errors.js';
export {
  Quality, Lane, AspectRatio, JobStatus, TERMINAL_STATUSES, Metadata, METADATA_MAX_KEYS, JobId,
  GenerateRequest, PromoteRequest, EffectiveParams, ModelRef, Cost, Usage,
  Job, JobListQuery, JobList, JobEvent,
} from './jobs.js';
export { TeamEventType, TeamEventId, TeamEvent } from './events.js';
export { AssetKind, Asset, AssetRetrieveQuery } from './assets.js';
export { UsageQuery, UsageRow, UsageReport } from './usage.js';
export { ModelTier, ModelInfo, ModelList } from './models.js';
export { PromptCheckRequest, PromptCheck } from './prompts.js';
export {
  WebhookEventType, WebhookEvent, WebhookDeliveryId, WebhookDeliveryStatus, WebhookDelivery, WebhookDeliveryListQuery, WebhookDeliveryList,
} from './webhooks.js';
export {
  TeamId, ApiKeyId, RateLimits, TeamSettings, TeamSettingsPatch, Team, TeamCreateRequest, TeamUpdateRequest, TeamList,
  ApiKeyStatus, ApiKey, ApiKeyWithSecret, ApiKeyCreateRequest, ApiKeyList, ApiKeyRotateRequest, ApiKeyRotation,
} from './admin.js';
export const API_VERSION = 'v1';
