/**
 * @clickvid/sdk for browsers, web workers and edge runtimes (the `browser` export condition):
 * the Node entry's surface over fetch, with nothing from Node at load. Assets have no
 * `download` to disk (fetch their signed `url`), and `webhooks` verify asynchronously.
 * @packageDocumentation
 */
export { Clickvid, type BrowserClientOptions, type BrowserClientOptions as ClientOptions } from './browser-client.js';
export { DEFAULT_BASE_URL, type CommonClientOptions } from './internal/client-base.js';
export { APIPromise } from './api-promise.js';
export {
  ClickvidError, APIError, BadRequestError, AuthenticationError, PermissionDeniedError, NotFoundError, ConflictError,
  UnprocessableEntityError, RateLimitError, InternalServerError, APIConnectionError, APITimeoutError, APIUserAbortError,
  APIResponseValidationError, JobFailedError, WaitTimeoutError, WebhookVerificationError, type APIErrorInit,
} from './errors.js';
export { Jobs, type GenerateParams, type CreateOptions, type PromoteParams, type StreamOptions, type JobListParams } from './resources/jobs.js';
export { Events, type TeamStreamOptions } from './resources/events.js';
export { Page, PagePromise, type ListBody } from './resources/pagination.js';
export { Assets, type AssetRetrieveOptions } from './resources/assets-base.js';
export { Usage } from './resources/usage.js';
export { Models } from './resources/models.js';
export { Prompts } from './resources/prompts.js';
export { Webhooks, type WebhookBody, type WebhookHeaders, type UnwrapOptions, type SignOptions, type SignedHeaders } from './resources/webhooks-web.js';
export { WebhookDeliveries, type WebhookDeliveryListParams } from './resources/webhook-deliveries.js';
export { isTerminal, DEFAULT_WAIT_TIMEOUT_MS, type WaitOptions } from './internal/wait.js';
export type { RequestOptions, ApiResponse } from './internal/transport.js';
export { VERSION } from './version.js';
export type {
  Job, JobEvent, JobList, TeamEvent, TeamEventType, JobListQuery, JobStatus, Quality, AspectRatio, GenerateRequest, Asset, UsageReport, UsageQuery,
  ModelList, ModelInfo, ModelTier, WebhookEvent, WebhookDelivery, WebhookDeliveryList, WebhookDeliveryListQuery, WebhookDeliveryStatus,
} from '@clickvid/contracts';
