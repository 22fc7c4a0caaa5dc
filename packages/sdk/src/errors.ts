import type { Job } from '@clickvid/contracts';

/** Base class of every error the SDK throws. Match on `code`, not on `message`. */
export class ClickvidError extends Error {
  /** A stable code: the API's error code for API errors, an SDK code (e.g. `connection_error`) otherwise. */
  readonly code: string;
  /** The job this error concerns, where there is one. */
  readonly jobId: string | undefined;

  constructor(message: string, options: { code?: string; jobId?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code ?? 'clickvid_error';
    this.jobId = options.jobId;
  }
}

/** What the API said in an error response (`{"error": {...}}`), plus the HTTP status. */
export interface APIErrorInit {
  /** The HTTP status. */
  status: number;
  /** The API's error code (docs/errors.md), or `http_<status>` when the body had none. */
  code: string;
  /** The server's message. */
  message: string;
  /** The error's family, e.g. `invalid_request_error`. */
  type?: string | undefined;
  /** The request field at fault, when there is one. */
  param?: string | undefined;
  /** The server's request id. */
  requestId?: string | undefined;
  /** Extra facts the server gave (e.g. `hint`, `vocabulary`). */
  details?: Record<string, unknown> | undefined;
  /** Response headers, lower-case names. */
  headers?: Record<string, string> | undefined;
  /** The job the request was about. */
  jobId?: string | undefined;
  /** From `Retry-After`, for 429s. */
  retryAfterMs?: number | undefined;
}

/** The API answered with a non-2xx status. */
export class APIError extends ClickvidError {
  /** The HTTP status. */
  readonly status: number;
  /** The error's family, e.g. `invalid_request_error`. */
  readonly type: string | undefined;
  /** The request field at fault, when there is one. */
  readonly param: string | undefined;
  /** The server's request id: quote it when reporting a problem. */
  readonly requestId: string | undefined;
  /** Extra facts the server gave (e.g. `hint`, `vocabulary` for a prompt it cannot read). */
  readonly details: Record<string, unknown> | undefined;
  /** Response headers, lower-case names. */
  readonly headers: Record<string, string>;

  /**
   * @internal Made by the SDK.
   * @param init - what the API said
   */
  constructor(init: APIErrorInit) {
    super(`${init.status} ${init.code}: ${init.message}`, { code: init.code, ...(init.jobId ? { jobId: init.jobId } : {}) });
    this.status = init.status;
    this.type = init.type;
    this.param = init.param;
    this.requestId = init.requestId;
    this.details = init.details;
    this.headers = init.headers ?? {};
  }

  /** @internal The subclass that matches `init.status`. */
  static from(init: APIErrorInit): APIError {
    const s = init.status;
    if (s === 400) return new BadRequestError(init);
    if (s === 401) return new AuthenticationError(init);
    if (s === 403) return new PermissionDeniedError(init);
    if (s === 404) return new NotFoundError(init);
    if (s === 409) return new ConflictError(init);
    if (s === 422) return new UnprocessableEntityError(init);
    if (s === 429) return new RateLimitError(init);
    if (s >= 500) return new InternalServerError(init);
    return new APIError(init);
  }
}

/** 400: the request is malformed (see `param`). */
export class BadRequestError extends APIError {}
/** 401: no API key, or one the server does not know. */
export class AuthenticationError extends APIError {}
/** 403: the key may not do this (or a signed URL expired: `url_expired`). */
export class PermissionDeniedError extends APIError {}
/** 404: no such job, asset or route. */
export class NotFoundError extends APIError {}
/** 409: the job is in a state that forbids this (e.g. `job_not_cancelable`), or the idempotency key is in use. */
export class ConflictError extends APIError {}
/** 422: well-formed but not acceptable (e.g. `idempotency_key_reused`, `prompt_not_understood`). */
export class UnprocessableEntityError extends APIError {}
/** 5xx: the server failed; retried before it reaches you. */
export class InternalServerError extends APIError {}

/** 429: `rate_limited` or `quota_exceeded`. */
export class RateLimitError extends APIError {
  /** From the `Retry-After` header, when the server sent one. */
  readonly retryAfterMs: number | undefined;
  /** @internal Made by the SDK. */
  constructor(init: APIErrorInit) {
    super(init);
    this.retryAfterMs = init.retryAfterMs;
  }
}

/** The request never got an HTTP answer (refused, reset, DNS...), after all retries. */
export class APIConnectionError extends ClickvidError {
  /** @internal Made by the SDK. */
  constructor(message = 'Connection error.', options: { cause?: unknown; jobId?: string; code?: string } = {}) {
    super(message, { code: 'connection_error', ...options });
  }
}

/** The request took longer than `timeoutMs`, after all retries. */
export class APITimeoutError extends APIConnectionError {
  /** @internal Made by the SDK. */
  constructor(message = 'Request timed out.', options: { cause?: unknown; jobId?: string } = {}) {
    super(message, { ...options, code: 'timeout' });
  }
}

/** The caller's `AbortSignal` fired. */
export class APIUserAbortError extends ClickvidError {
  /** @internal Made by the SDK. */
  constructor(message = 'Request was aborted.', options: { jobId?: string; cause?: unknown } = {}) {
    super(message, { code: 'aborted', ...options });
  }
}

/** A 2xx response whose body does not match the contract: the SDK and the server disagree on the API. */
export class APIResponseValidationError extends ClickvidError {
  /** The server's request id of the response that broke the contract. */
  readonly requestId: string | undefined;
  /** @internal Made by the SDK. */
  constructor(message: string, options: { cause?: unknown; requestId?: string | undefined; jobId?: string }) {
    super(message, { code: 'invalid_response', cause: options.cause, ...(options.jobId ? { jobId: options.jobId } : {}) });
    this.requestId = options.requestId;
  }
}

/** The job ended `failed` or `canceled`. `code` is the job's error code (or `job_canceled`). */
export class JobFailedError extends ClickvidError {
  /** The job as it ended, with its `error`. */
  readonly job: Job;
  /** How it ended. */
  readonly status: 'failed' | 'canceled';
  /** @internal Made by the SDK. */
  constructor(job: Job) {
    const status = job.status === 'canceled' ? 'canceled' : 'failed';
    const code = job.error?.code ?? (status === 'canceled' ? 'job_canceled' : 'job_failed');
    const why = job.error?.message ?? (status === 'canceled' ? 'The job was canceled.' : 'The job failed.');
    super(`Job ${job.id} ${status}: ${why}`, { code, jobId: job.id });
    this.job = job;
    this.status = status;
  }
}

/** `jobs.wait` ran past its `timeoutMs`; the job may still be running (unless `cancelOnTimeout`). */
export class WaitTimeoutError extends ClickvidError {
  /** Whether the job was canceled (`cancelOnTimeout`); if not, it may still finish. */
  readonly canceled: boolean;
  /** @internal Made by the SDK. */
  constructor(jobId: string, timeoutMs: number, canceled: boolean) {
    super(`Gave up waiting for job ${jobId} after ${timeoutMs} ms${canceled ? '; the job was canceled' : '; it may still finish'}.`, {
      code: 'wait_timeout',
      jobId,
    });
    this.canceled = canceled;
  }
}

/** A webhook's signature, timestamp or body did not verify. */
export class WebhookVerificationError extends ClickvidError {
  /** @internal Made by the SDK. */
  constructor(message: string, code = 'webhook_invalid_signature') {
    super(message, { code });
  }
}
