import { z } from 'zod';

/**
 * The one catalogue of error codes. Every error the API returns, and every
 * failure recorded on a job, uses a code from here. docs/errors.md is the
 * human-readable twin of this table; a test keeps them in step. `retryable` says whether
 * a job that failed with the code is tried again (the worker's classifyError reads it):
 * the one place that decides.
 */
export const ERROR_CATALOGUE = {
  // 400
  invalid_request: { status: 400, type: 'invalid_request_error', message: 'The request is malformed.', retryable: false },
  validation_failed: { status: 400, type: 'invalid_request_error', message: 'A parameter is missing or invalid.', retryable: false },
  malformed_url: { status: 400, type: 'invalid_request_error', message: 'The URL has malformed percent-encoding.', retryable: false },
  invalid_idempotency_key: { status: 400, type: 'invalid_request_error', message: 'Idempotency-Key must be 1 to 255 visible ASCII characters.', retryable: false },
  // 401 / 403
  missing_api_key: { status: 401, type: 'authentication_error', message: 'No API key was given: send Authorization: Bearer <key>.', retryable: false },
  invalid_api_key: { status: 401, type: 'authentication_error', message: 'The API key is not valid.', retryable: false },
  invalid_admin_key: { status: 401, type: 'authentication_error', message: 'The admin key is not valid.', retryable: false },
  invalid_signature: { status: 403, type: 'permission_error', message: 'The asset URL signature does not match.', retryable: false },
  url_expired: { status: 403, type: 'permission_error', message: 'The asset URL has expired; fetch a new one.', retryable: false },
  quality_not_allowed: { status: 403, type: 'permission_error', message: "The team's plan does not include this quality.", retryable: false },
  // 404
  not_found: { status: 404, type: 'not_found_error', message: 'No such route.', retryable: false },
  job_not_found: { status: 404, type: 'not_found_error', message: 'No such job.', retryable: false },
  asset_not_found: { status: 404, type: 'not_found_error', message: 'No such asset.', retryable: false },
  team_not_found: { status: 404, type: 'not_found_error', message: 'No such team.', retryable: false },
  api_key_not_found: { status: 404, type: 'not_found_error', message: 'No such API key.', retryable: false },
  webhook_delivery_not_found: { status: 404, type: 'not_found_error', message: 'No such webhook delivery.', retryable: false },
  // 409
  job_not_cancelable: { status: 409, type: 'conflict_error', message: 'The job has already finished and cannot be canceled.', retryable: false },
  job_not_promotable: { status: 409, type: 'conflict_error', message: 'Only a queued, running or succeeded job can be promoted.', retryable: false },
  idempotency_key_in_use: { status: 409, type: 'conflict_error', message: 'A request with this Idempotency-Key is still being processed.', retryable: false },
  team_exists: { status: 409, type: 'conflict_error', message: 'A team with this id already exists.', retryable: false },
  api_key_revoked: { status: 409, type: 'conflict_error', message: 'The API key is revoked.', retryable: false },
  // 410
  asset_expired: { status: 410, type: 'not_found_error', message: "The asset has expired: its files are no longer kept (see the job's expires_at).", retryable: false },
  // 413 / 414 / 415 / 416
  payload_too_large: { status: 413, type: 'invalid_request_error', message: 'The request body is too large.', retryable: false },
  uri_too_long: { status: 414, type: 'invalid_request_error', message: 'A path segment is too long.', retryable: false },
  unsupported_media_type: { status: 415, type: 'invalid_request_error', message: 'Send a JSON body with Content-Type: application/json.', retryable: false },
  range_not_satisfiable: { status: 416, type: 'invalid_request_error', message: 'The requested byte range is outside the file.', retryable: false },
  // 422
  idempotency_key_reused: { status: 422, type: 'invalid_request_error', message: 'This Idempotency-Key was used with a different request body.', retryable: false },
  prompt_not_understood: { status: 422, type: 'invalid_request_error', message: 'The model cannot draw this prompt.', retryable: false },
  prompt_rejected: { status: 422, type: 'invalid_request_error', message: 'The prompt was refused by moderation.', retryable: false },
  unsupported_parameter: { status: 422, type: 'invalid_request_error', message: 'The model does not support this parameter value.', retryable: false },
  invalid_webhook_url: { status: 422, type: 'invalid_request_error', message: 'The webhook URL is not allowed.', retryable: false },
  // 429
  rate_limited: { status: 429, type: 'rate_limit_error', message: 'Too many requests; retry after the time in Retry-After.', retryable: true },
  quota_exceeded: { status: 429, type: 'rate_limit_error', message: 'The team has used its GPU-second quota for today.', retryable: false },
  budget_exceeded: { status: 429, type: 'rate_limit_error', message: "The team has used its credit budget for this month.", retryable: false },
  too_many_streams: { status: 429, type: 'rate_limit_error', message: 'The team has too many event streams open; close one or poll.', retryable: true },
  // 5xx
  internal_error: { status: 500, type: 'api_error', message: 'Something went wrong on our side.', retryable: true },
  service_unavailable: { status: 503, type: 'api_error', message: 'The service is not ready; retry shortly.', retryable: true },
  // Job failures (recorded on the job, never an HTTP status of their own)
  model_unavailable: { status: 500, type: 'job_error', message: 'The model file is missing or does not match its manifest.', retryable: false },
  inference_failed: { status: 500, type: 'job_error', message: 'Inference failed.', retryable: true },
  encode_failed: { status: 500, type: 'job_error', message: 'Encoding the video failed.', retryable: true },
  storage_failed: { status: 500, type: 'job_error', message: 'Writing the output to storage failed.', retryable: true },
  job_timeout: { status: 500, type: 'job_error', message: 'The job ran past its time limit.', retryable: true },
  deadline_exceeded: { status: 500, type: 'job_error', message: 'The job had not started by its deadline (deadline_s); it was canceled at no charge.', retryable: false },
} as const satisfies Record<string, { status: number; type: string; message: string; retryable: boolean }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;
export const ErrorCode = z.enum(Object.keys(ERROR_CATALOGUE) as [ErrorCode, ...ErrorCode[]]);

/** The body of every error response. */
export const ErrorBody = z.object({
  error: z.object({
    type: z.string(),
    /** Stable across releases; match on this, not on `message`. */
    code: z.string(),
    message: z.string(),
    param: z.string().optional(),
    request_id: z.string(),
    /** Extra machine-readable detail, e.g. the known vocabulary for `prompt_not_understood`. */
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** The failure recorded on a job. */
export const JobError = z.object({
  code: z.string(),
  message: z.string(),
  retryable: z.boolean().optional(),
});
export type JobError = z.infer<typeof JobError>;
