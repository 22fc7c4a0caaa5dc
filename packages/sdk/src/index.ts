/**
 * @clickvid/sdk: typed client of the clickvid API, for Node (this entry; undici underneath).
 * Browsers, workers and bundlers targeting them get `./browser.ts` through the `browser`
 * export condition: the same surface over fetch, with no Node built-ins.
 * @packageDocumentation
 */
export { Clickvid, DEFAULT_BASE_URL, type ClientOptions } from './client.js';
export type { CommonClientOptions } from './internal/client-base.js';
export { APIPromise } from './api-promise.js';
export {
  ClickvidError, APIError, BadRequestError, AuthenticationError, PermissionDeniedError, NotFoundError, ConflictError,
  UnprocessableEntityError, RateLimitError, InternalServerError, APIConnectionError, APITimeoutError, APIUserAbortError,
  APIResponseValidationError, JobFailedError, WaitTimeoutError, WebhookVerificationError, type APIErrorInit,
} from './errors.js';
export { Jobs, type GenerateParams, type CreateOptions, type PromoteParams, type StreamOptions, type JobListParams } from './resources/jobs.js';
export { Events, type TeamStreamOptions } from './resources/events.js';
export { Page, PagePromise, type ListBody } from './resources/pagination.js';
export { Assets, type DownloadOptions, type DownloadResult } from './resources/assets.js';
export type { AssetRetrieveOptions } from './resources/assets-base.js';
export { Usage } from './resources/usage.js';
export { Models } from './resources/models.js';
export { Admin, AdminTeams, AdminKeys } from './resources/admin.js';
export { Prompts } from './resources/prompts.js';
export { Webhooks, type WebhookHeaders, type UnwrapOptions, type SignOptions, type SignedHeaders } from './resources/webhooks.js';
export { WebhookDeliveries, type WebhookDeliveryListParams } from './resources/webhook-deliveries.js';
export { isTerminal, DEFAULT_WAIT_TIMEOUT_MS, type WaitOptions } from './internal/wait.js';
export type { RequestOptions, ApiResponse } from './internal/transport.js';
export { VERSION } from './version.js';
export type {
  Job, JobEvent, JobList, TeamEvent, TeamEventType, JobListQuery, JobStatus, Quality, AspectRatio, GenerateRequest, Asset, UsageReport, UsageQuery,
  ModelList, ModelInfo, ModelTier, WebhookEvent, WebhookDelivery, WebhookDeliveryList, WebhookDeliveryListQuery, WebhookDeliveryStatus, PromptCheck, PromptCheckRequest,
  Team, TeamList, TeamSettings, TeamSettingsPatch, TeamCreateRequest, TeamUpdateRequest,
  ApiKey, ApiKeyList, ApiKeyWithSecret, ApiKeyRotation, ApiKeyCreateRequest, ApiKeyRotateRequest,
} from '@clickvid/contracts';
