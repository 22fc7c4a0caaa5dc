import { UnrecoverableError } from 'bullmq';
import { ERROR_CATALOGUE, type ErrorCode } from '@clickvid/contracts';

/**
 * A failure with a catalogue code and a verdict on retrying. Parts of the
 * worker throw this; {@link classifyError} turns anything else into one.
 */
export class WorkerError extends Error {
  readonly code: ErrorCode;
  /** True when another attempt may succeed (a crashed ffmpeg, a storage hiccup, a timeout). */
  readonly retryable: boolean;

  /** `retryable` defaults to the catalogue's column for the code. */
  constructor(code: ErrorCode, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WorkerError';
    this.code = code;
    this.retryable = options.retryable ?? ERROR_CATALOGUE[code].retryable;
  }
}

/** Node system error codes of transient I/O faults (network, disk pressure). */
const TRANSIENT_SYSCALL = /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EBUSY|EMFILE|ENFILE|ENOSPC)$/;

/**
 * The one place that decides whether a failure is retried: a catalogue code by its
 * `retryable` column (packages/contracts/src/errors.ts), anything else by what it is.
 *
 * Bad input, a missing model or a sha256 mismatch will fail the same way on
 * every attempt, so they are unrecoverable; crashes, timeouts and storage or
 * Redis hiccups are retried with the backoff set at enqueue. Anything
 * unknown is treated as retryable `internal_error`: the attempt budget (3)
 * bounds the cost of being wrong, while failing a job for good on a
 * one-off fault cannot be undone.
 */
export function classifyError(err: unknown): WorkerError {
  if (err instanceof WorkerError) return err;
  if (err instanceof UnrecoverableError) {
    return new WorkerError('internal_error', err.message, { retryable: false, cause: err });
  }
  const e = err as { code?: unknown; name?: unknown; message?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (code !== undefined && code !== 'internal_error' && Object.hasOwn(ERROR_CATALOGUE, code)) {
    // A catalogue code: its `retryable` column decides (bad input, a missing model: never).
    return new WorkerError(code as ErrorCode, message, { cause: err });
  }
  if (code === 'job_timeout' || e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return new WorkerError('job_timeout', message, { retryable: true, cause: err });
  }
  if (code !== undefined && TRANSIENT_SYSCALL.test(code)) {
    return new WorkerError('internal_error', message, { retryable: true, cause: err });
  }
  if (code === 'ENOENT' || code === 'EACCES') {
    // A missing or unreadable file under the worker's own control: treat as retryable
    // unless the thrower already said otherwise (a missing model throws model_unavailable).
    return new WorkerError('internal_error', message, { retryable: true, cause: err });
  }
  return new WorkerError('internal_error', message, { retryable: true, cause: err });
}

/**
 * The error a BullMQ processor should throw for `err`: an UnrecoverableError
 * (fails the job now, whatever attempts are left) or the classified error
 * itself (retried with backoff). Its message starts with the code so the
 * failed reason in Redis stays readable.
 */
export function toBullError(err: WorkerError): Error {
  const message = `${err.code}: ${err.message}`;
  if (!err.retryable) return new UnrecoverableError(message);
  const out = new Error(message, { cause: err });
  out.name = 'RetryableJobError';
  return out;
}
