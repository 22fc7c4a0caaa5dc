import { TERMINAL_STATUSES, type Job, type JobEvent } from '@clickvid/contracts';
import {
  APIConnectionError, APIUserAbortError, ConflictError, InternalServerError, JobFailedError,
  RateLimitError, WaitTimeoutError,
} from '../errors.js';
import { sleep } from './retry.js';
import type { RequestOptions } from './transport.js';

/** Options of `jobs.wait`. */
export interface WaitOptions {
  /** Give up after this long and throw {@link WaitTimeoutError}. @defaultValue 600000 (10 min) */
  timeoutMs?: number | undefined;
  /** Stops waiting; throws {@link APIUserAbortError}. The job keeps running. */
  signal?: AbortSignal | undefined;
  /** On timeout, cancel the job before throwing. @defaultValue false */
  cancelOnTimeout?: boolean | undefined;
  /** Poll interval, used only when the event stream is not available. @defaultValue 1000 */
  pollIntervalMs?: number | undefined;
  /** Called with every fresh state of the job (status, queue position, progress). */
  onProgress?: ((job: Job) => void) | undefined;
}

/** What waiting needs from the jobs resource (kept narrow so this module does not import it). */
export interface JobsApi {
  retrieve(id: string, options?: RequestOptions): Promise<Job>;
  cancel(id: string, options?: RequestOptions): Promise<Job>;
  stream(id: string, options?: { signal?: AbortSignal }): AsyncIterable<JobEvent>;
}

/** How long `jobs.wait` waits unless told: 10 minutes. */
export const DEFAULT_WAIT_TIMEOUT_MS = 600_000;
const DEADLINE = Symbol('deadline');

/** True for `succeeded`, `failed` and `canceled`. */
export function isTerminal(job: Job): boolean {
  return TERMINAL_STATUSES.includes(job.status);
}

export async function waitForJob(jobs: JobsApi, id: string, options: WaitOptions = {}): Promise<Job> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(DEADLINE), timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal;
  try {
    return settle(await follow(jobs, id, signal, options));
  } catch (err) {
    if (options.signal?.aborted) {
      throw err instanceof APIUserAbortError ? err : new APIUserAbortError(undefined, { jobId: id, cause: err });
    }
    if (deadline.signal.aborted && !(err instanceof JobFailedError)) {
      if (options.cancelOnTimeout) {
        try {
          const job = await jobs.cancel(id);
          if (job.status !== 'canceled') return settle(job);
          throw new WaitTimeoutError(id, timeoutMs, true);
        } catch (cancelErr) {
          // It finished between the deadline and the cancel: report what it became.
          if (cancelErr instanceof ConflictError && cancelErr.code === 'job_not_cancelable') return settle(await jobs.retrieve(id));
          throw cancelErr;
        }
      }
      throw new WaitTimeoutError(id, timeoutMs, false);
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

function settle(job: Job): Job {
  if (job.status === 'succeeded') return job;
  throw new JobFailedError(job);
}

async function follow(jobs: JobsApi, id: string, signal: AbortSignal, options: WaitOptions): Promise<Job> {
  const onProgress = options.onProgress ?? (() => {});
  let job = await jobs.retrieve(id, { signal });
  onProgress(job);
  if (isTerminal(job)) return job;

  try {
    for await (const event of jobs.stream(id, { signal })) {
      if (!event.job) continue;
      job = event.job;
      onProgress(job);
      if (isTerminal(job)) return job;
    }
  } catch (err) {
    if (signal.aborted) throw err;
    // Any other stream failure (no SSE behind a proxy, drops): polling still works.
  }
  return poll(jobs, id, signal, options.pollIntervalMs ?? 1000, onProgress);
}

async function poll(jobs: JobsApi, id: string, signal: AbortSignal, intervalMs: number, onProgress: (job: Job) => void): Promise<Job> {
  let delay = 0;
  for (;;) {
    await sleep(delay, signal);
    delay = intervalMs;
    let job: Job;
    try {
      job = await jobs.retrieve(id, { signal });
    } catch (err) {
      if (signal.aborted) throw err;
      // The transport already retried; a long wait outlives a short outage, bounded by the deadline.
      if (err instanceof RateLimitError && err.retryAfterMs !== undefined) delay = Math.max(intervalMs, err.retryAfterMs);
      else if (!(err instanceof APIConnectionError || err instanceof InternalServerError || err instanceof RateLimitError)) throw err;
      continue;
    }
    onProgress(job);
    if (isTerminal(job)) return job;
  }
}

