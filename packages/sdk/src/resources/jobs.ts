import {
  Job, JobEvent, JobList,
  type AspectRatio, type GenerateRequest, type JobListQuery, type Quality,
} from '@clickvid/contracts';
import { APIPromise } from '../api-promise.js';
import { APIResponseValidationError, APIUserAbortError, APIConnectionError, ClickvidError } from '../errors.js';
import { parseSSE } from '../internal/sse.js';
import { newIdempotencyKey, type RequestOptions, type Transport } from '../internal/transport.js';
import { waitForJob, type WaitOptions } from '../internal/wait.js';
import { Page, PagePromise } from './pagination.js';

/**
 * Parameters of `generate` / `jobs.create`: the `GenerateRequest` contract,
 * plus camelCase spellings of its multi-word fields.
 */
export type GenerateParams = GenerateRequest & {
  /** Same as `from_job`. */
  fromJob?: string | undefined;
  /** Same as `webhook_url`. */
  webhookUrl?: string | undefined;
  /** Same as `aspect_ratio`. */
  aspectRatio?: AspectRatio | undefined;
  /** Same as `duration_s`. */
  durationS?: number | undefined;
  /** Same as `deadline_s`: cancel at no charge if not started within this many seconds. */
  deadlineS?: number | undefined;
};

/** Options of calls that create a job. */
export interface CreateOptions extends RequestOptions {
  /**
   * Sent as `Idempotency-Key`. Reuse it to make a retried call safe across
   * processes; the server replays the first answer for 24 h.
   * @defaultValue a fresh `cv-<uuid>`, made once per call and reused by its retries
   */
  idempotencyKey?: string | undefined;
}

/** Parameters of `jobs.promote`. */
export interface PromoteParams {
  /** @defaultValue 'final' */
  quality?: Quality | undefined;
  /** POST the finished job here (Standard Webhooks signature). */
  webhookUrl?: string | undefined;
  /** Same as `webhookUrl`. */
  webhook_url?: string | undefined;
}

/** Filters of `jobs.list`: the `JobListQuery` contract, with `limit` as a number. */
export type JobListParams = Omit<JobListQuery, 'limit'> & {
  /** Page size, 1..100. @defaultValue 20 */
  limit?: number | undefined;
};

/** Options of `jobs.stream`. */
export interface StreamOptions {
  /** Closes the stream; the loop then throws {@link APIUserAbortError}. */
  signal?: AbortSignal | undefined;
}

/** Jobs: submit, inspect, list, cancel, promote, follow. */
export class Jobs {
  /** @internal */
  constructor(private readonly transport: Transport) {}

  /** Submit a prompt; resolves with the queued job (HTTP 202). */
  create(params: GenerateParams, options: CreateOptions = {}): APIPromise<Job> {
    const { idempotencyKey, ...rest } = options;
    return new APIPromise(
      this.transport.json(Job, {
        ...rest,
        method: 'POST',
        path: '/v1/generate',
        body: toGenerateBody(params),
        idempotencyKey: idempotencyKey ?? newIdempotencyKey(),
      }),
    );
  }

  /** The job as it is now: status, queue position, progress, cost, assets. */
  retrieve(id: string, options: RequestOptions = {}): APIPromise<Job> {
    return new APIPromise(this.transport.json(Job, { ...options, method: 'GET', path: `/v1/jobs/${enc(id)}`, jobId: id }));
  }

  /**
   * One page of the caller's jobs, newest first. `await` it for a {@link Page},
   * or `for await (const job of client.jobs.list(...))` to walk all pages.
   */
  list(query: JobListParams = {}, options: RequestOptions = {}): PagePromise<Job> {
    const fetchPage = (cursor?: string) =>
      this.transport.json(JobList, {
        ...options,
        method: 'GET',
        path: '/v1/jobs',
        query: { ...query, ...(cursor ? { cursor } : {}) },
      });
    const next = async (cursor: string) => (await fetchPage(cursor)).data;
    return new PagePromise(fetchPage(query.cursor).then((res) => ({ ...res, data: new Page(res.data, next) })));
  }

  /** Cancel a queued or running job. Idempotent; a finished job gives a ConflictError `job_not_cancelable`. */
  cancel(id: string, options: RequestOptions = {}): APIPromise<Job> {
    return new APIPromise(this.transport.json(Job, { ...options, method: 'POST', path: `/v1/jobs/${enc(id)}/cancel`, jobId: id }));
  }

  /** Render the same prompt, seed and framing again at a higher quality; resolves with the new job. */
  promote(id: string, params: PromoteParams = {}, options: CreateOptions = {}): APIPromise<Job> {
    const { idempotencyKey, ...rest } = options;
    const webhookUrl = params.webhookUrl ?? params.webhook_url;
    return new APIPromise(
      this.transport.json(Job, {
        ...rest,
        method: 'POST',
        path: `/v1/jobs/${enc(id)}/promote`,
        body: { quality: params.quality ?? 'final', ...(webhookUrl ? { webhook_url: webhookUrl } : {}) },
        idempotencyKey: idempotencyKey ?? newIdempotencyKey(),
        jobId: id,
      }),
    );
  }

  /**
   * The job's server-sent events as they come: `status`, `progress`,
   * `heartbeat` and a last `done` carrying the finished job. Reconnects once
   * (with `Last-Event-ID`) when the connection drops before `done`; a second
   * drop throws {@link APIConnectionError}. Breaking out of the loop closes the connection.
   */
  async *stream(id: string, options: StreamOptions = {}): AsyncGenerator<JobEvent> {
    let lastEventId: string | undefined;
    for (let reconnects = 0; ; reconnects++) {
      const res = await this.transport.stream({
        method: 'GET',
        path: `/v1/jobs/${enc(id)}/events`,
        accept: 'text/event-stream',
        headers: lastEventId ? { 'last-event-id': lastEventId } : undefined,
        signal: options.signal,
        jobId: id,
      });
      let dropped: unknown;
      try {
        for await (const msg of parseSSE(res.body)) {
          if (msg.id) lastEventId = msg.id;
          const event = toJobEvent(msg.event, msg.data, id, res.requestId);
          if (!event) continue;
          yield event;
          if (event.type === 'done') return;
        }
        dropped = new Error('the server closed the stream before a done event');
      } catch (err) {
        if (options.signal?.aborted) throw new APIUserAbortError(undefined, { jobId: id, cause: err });
        if (err instanceof ClickvidError) throw err;
        dropped = err;
      } finally {
        res.close();
      }
      if (reconnects >= 1) {
        throw new APIConnectionError(`The event stream of job ${id} dropped again after a reconnect: ${String((dropped as Error)?.message ?? dropped)}`, {
          jobId: id,
          cause: dropped,
        });
      }
    }
  }

  /**
   * Resolve when the job succeeds; throw {@link JobFailedError} when it fails or
   * is canceled, {@link WaitTimeoutError} after `timeoutMs`. Follows the event
   * stream and falls back to polling when the stream fails. Holds no state: call
   * it again on the same id to keep waiting.
   */
  wait(id: string, options: WaitOptions = {}): Promise<Job> {
    return waitForJob(this, id, options);
  }
}

function toGenerateBody(params: GenerateParams): GenerateRequest {
  const { fromJob, webhookUrl, aspectRatio, durationS, deadlineS, ...body } = params;
  const out: GenerateRequest = { ...body };
  if (out.from_job === undefined && fromJob !== undefined) out.from_job = fromJob;
  if (out.webhook_url === undefined && webhookUrl !== undefined) out.webhook_url = webhookUrl;
  if (out.aspect_ratio === undefined && aspectRatio !== undefined) out.aspect_ratio = aspectRatio;
  if (out.duration_s === undefined && durationS !== undefined) out.duration_s = durationS;
  if (out.deadline_s === undefined && deadlineS !== undefined) out.deadline_s = deadlineS;
  for (const k of Object.keys(out) as (keyof GenerateRequest)[]) if (out[k] === undefined) delete out[k];
  return out;
}

function toJobEvent(name: string, data: string, jobId: string, requestId: string | undefined): JobEvent | undefined {
  let raw: unknown;
  try {
    raw = data === '' ? {} : JSON.parse(data);
  } catch (cause) {
    throw new APIResponseValidationError(`Event "${name}" of job ${jobId} is not JSON.`, { cause, requestId, jobId });
  }
  const withType = raw && typeof raw === 'object' && !('type' in raw) ? { ...raw, type: name } : raw;
  const parsed = JobEvent.safeParse(withType);
  if (!parsed.success) {
    // Event types this SDK does not know yet are skipped, so the server can add some without breaking old clients.
    const type = (withType as { type?: unknown } | null)?.type;
    if (typeof type === 'string' && !JobEvent.shape.type.options.includes(type as JobEvent['type'])) return undefined;
    throw new APIResponseValidationError(`Event "${name}" of job ${jobId} does not match the contract: ${parsed.error.message}`, {
      cause: parsed.error, requestId, jobId,
    });
  }
  return parsed.data;
}

function enc(id: string): string {
  return encodeURIComponent(id);
}
