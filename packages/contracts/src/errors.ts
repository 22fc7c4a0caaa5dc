import { z } from 'zod';

/**
 * The one catalogue of error codes. Every error the API returns, and every
 * failure recorded on a job, uses a code from here. docs/errors.md is the
 * human-readable twin of this table; a test keeps them in step.
 */
export const ERROR_CATALOGUE = {
  // 400
  invalid_request: { status: 400, type: 'invalid_request_error', message: 'The request is malformed.' },
  validation_failed: { status: 400, type: 'invalid_request_error', message: 'A parameter is missing or invalid.' },
  // 401 / 403
  missing_api_key: { status: 401, type: 'authentication_error', message: 'No API key was given: send Authorization: Bearer <key>.' },
  invalid_api_key: { status: 401, type: 'authentication_error', message: 'The API key is not valid.' },
  invalid_signature: { status: 403, type: 'permission_error', message: 'The asset URL signature does not match.' },
  url_expired: { status: 403, type: 'permission_error', message: 'The asset URL has expired; fetch a new one.' },
  // 404
  not_found: { status: 404, type: 'not_found_error', message: 'No such route.' },
  job_not_found: { status: 404, type: 'not_found_error', message: 'No such job.' },
  asset_not_found: { status: 404, type: 'not_found_error', message: 'No such asset.' },
  // 409
  job_not_cancelable: { status: 409, type: 'conflict_error', message: 'The job has already finished and cannot be canceled.' },
  job_not_promotable: { status: 409, type: 'conflict_error', message: 'Only a queued, running or succeeded job can be promoted.' },
  idempotency_key_in_use: { status: 409, type: 'conflict_error', message: 'A request with this Idempotency-Key is still being processed.' },
  // 413 / 415
  payload_too_large: { status: 413, type: 'invalid_request_error', message: 'The request body is too large.' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error', message: 'Send a JSON body with Content-Type: application/json.' },
  // 422
  idempotency_key_reused: { status: 422, type: 'invalid_request_error', message: 'This Idempotency-Key was used with a different request body.' },
  prompt_not_understood: { status: 422, type: 'invalid_request_error', message: 'The model cannot draw this prompt.' },
  prompt_rejected: { status: 422, type: 'invalid_request_error', message: 'The prompt was refused by moderation.' },
  unsupported_parameter: { status: 422, type: 'invalid_request_error', message: 'The model does not support this parameter value.' },
  invalid_webhook_url: { status: 422, type: 'invalid_request_error', message: 'The webhook URL is not allowed.' },
  // 429
  rate_limited: { status: 429, type: 'rate_limit_error', message: 'Too many requests; retry after the time in Retry-After.' },
  quota_exceeded: { status: 429, type: 'rate_limit_error', message: 'The team has used its GPU-second quota for today.' },
  // 5xx
  internal_error: { status: 500, type: 'api_error', message: 'Something went wrong on our side.' },
  service_unavailable: { status: 503, type: 'api_error', message: 'The service is not ready; retry shortly.' },
  // Job failures (recorded on the job, never an HTTP status of their own)
  model_unavailable: { status: 500, type: 'job_error', message: 'The model file is missing or does not match its manifest.' },
  inference_failed: { status: 500, type: 'job_error', message: 'Inference failed.' },
  encode_failed: { status: 500, type: 'job_error', message: 'Encoding the video failed.' },
  storage_failed: { status: 500, type: 'job_error', message: 'Writing the output to storage failed.' },
  job_timeout: { status: 500, type: 'job_error', message: 'The job ran past its time limit.' },
} as const satisfies Record<string, { status: number; type: string; message: string }>;

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
