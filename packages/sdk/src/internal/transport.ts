import { ErrorBody } from '@clickvid/contracts';
import type { z } from 'zod';
import {
  APIConnectionError, APIError, APIResponseValidationError, APITimeoutError, APIUserAbortError, ClickvidError,
} from '../errors.js';
import { BODY_TIMEOUT, type HttpResponse, type HttpSend } from './http.js';
import { backoffMs, errorCode, isRetryableNetworkError, isRetryableStatus, parseRetryAfter, sleep } from './retry.js';
import { uuid } from './uuid.js';

/** Per-call options every SDK method accepts. */
export interface RequestOptions {
  /** Aborts the call (and its retries); the SDK then throws {@link APIUserAbortError}. */
  signal?: AbortSignal | undefined;
  /** Per-attempt timeout. @defaultValue the client's `timeoutMs` */
  timeoutMs?: number | undefined;
  /** @defaultValue the client's `maxRetries` */
  maxRetries?: number | undefined;
  /** Extra headers for this call. */
  headers?: Record<string, string> | undefined;
}

export interface TransportConfig {
  apiKey: string;
  baseUrl: string;
  timeoutMs: number;
  maxRetries: number;
  maxRetryAfterMs: number;
  streamIdleTimeoutMs: number;
  /** How requests go out: undici in Node, fetch in browsers or when the client has a `fetch` option. */
  http: HttpSend;
  defaultHeaders: Record<string, string>;
  /** Sent as `user-agent` where the platform lets a script set it (not in browsers). */
  userAgent: string | undefined;
}

export interface ApiRequest extends RequestOptions {
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string | number | boolean | undefined | null> | undefined;
  body?: unknown;
  idempotencyKey?: string | undefined;
  /** Put on every error this request throws. */
  jobId?: string | undefined;
  accept?: string;
}

/** A parsed body with the response it came in: what `.withResponse()` resolves to. */
export interface ApiResponse<T> {
  /** The body, parsed with the contract's schema. */
  data: T;
  /** The HTTP status. */
  status: number;
  /** The server's `x-request-id`: quote it when reporting a problem. */
  requestId: string | undefined;
  /** Response headers, lower-case names. */
  headers: Record<string, string>;
}

export interface StreamResponse {
  status: number;
  requestId: string | undefined;
  headers: Record<string, string>;
  body: AsyncIterable<Uint8Array>;
  close(): void;
}

const TIMEOUT = Symbol('timeout');

/** A fresh Idempotency-Key: made once per logical create, outside the retry loop. */
export function newIdempotencyKey(): string {
  return `cv-${uuid()}`;
}

/**
 * Owns the wire: URL building, auth, timeouts, retries, error mapping and
 * response validation. Resources only say what to send and which schema to expect.
 */
export class Transport {
  constructor(readonly config: TransportConfig) {}

  /** Send a request and parse its JSON body with `schema`. */
  async json<S extends z.ZodType>(schema: S, req: ApiRequest): Promise<ApiResponse<z.output<S>>> {
    const res = await this.send(req, 'json');
    let raw: unknown;
    try {
      raw = res.text === '' ? undefined : JSON.parse(res.text);
    } catch (cause) {
      throw new APIResponseValidationError(`The API answered ${req.method} ${req.path} with a body that is not JSON.`, {
        cause, requestId: res.requestId, ...(req.jobId ? { jobId: req.jobId } : {}),
      });
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      throw new APIResponseValidationError(
        `The API's answer to ${req.method} ${req.path} does not match the contract: ${parsed.error.message}`,
        { cause: parsed.error, requestId: res.requestId, ...(req.jobId ? { jobId: req.jobId } : {}) },
      );
    }
    return { data: parsed.data, status: res.status, requestId: res.requestId, headers: res.headers };
  }

  /**
   * Open a streaming response (SSE). Connect errors and error statuses are retried
   * like any request; once the headers are in, the body is the caller's, with an
   * idle timeout of `streamIdleTimeoutMs` between chunks.
   */
  async stream(req: ApiRequest): Promise<StreamResponse> {
    const res = await this.send(req, 'stream');
    const raw = res.raw!;
    return { status: res.status, requestId: res.requestId, headers: res.headers, body: raw.chunks(), close: () => raw.close() };
  }

  url(path: string, query?: ApiRequest['query']): string {
    const url = new URL(this.config.baseUrl.replace(/\/+$/, '') + path);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
    }
    return url.toString();
  }

  private async send(
    req: ApiRequest,
    mode: 'json' | 'stream',
  ): Promise<{ status: number; headers: Record<string, string>; requestId: string | undefined; text: string; raw: HttpResponse | undefined }> {
    const maxRetries = req.maxRetries ?? this.config.maxRetries;
    const timeoutMs = req.timeoutMs ?? this.config.timeoutMs;
    const url = this.url(req.path, req.query);
    const headers: Record<string, string> = {
      ...this.config.defaultHeaders,
      authorization: `Bearer ${this.config.apiKey}`,
      ...(this.config.userAgent ? { 'user-agent': this.config.userAgent } : {}),
      accept: req.accept ?? 'application/json',
      ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(req.idempotencyKey ? { 'idempotency-key': req.idempotencyKey } : {}),
      ...req.headers,
    };
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    const jobId = req.jobId ? { jobId: req.jobId } : {};

    for (let attempt = 0; ; attempt++) {
      if (req.signal?.aborted) throw new APIUserAbortError(undefined, jobId);
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(TIMEOUT), timeoutMs);
      const onUserAbort = () => controller.abort(req.signal?.reason);
      req.signal?.addEventListener('abort', onUserAbort, { once: true });
      let retryDelay: number;
      let streaming = false;
      try {
        const res = await this.config.http({
          method: req.method,
          url,
          headers: { ...headers, ...(attempt > 0 ? { 'x-clickvid-retry-count': String(attempt) } : {}) },
          body,
          signal: controller.signal,
          headersTimeoutMs: timeoutMs,
          bodyTimeoutMs: mode === 'stream' ? this.config.streamIdleTimeoutMs : timeoutMs,
        });
        const resHeaders = res.headers;
        const requestId = resHeaders['x-request-id'];
        if (res.status >= 200 && res.status < 300 && mode === 'stream') {
          // The body outlives this function: keep the user's abort wired to it, drop only the connect timeout.
          streaming = true;
          clearTimeout(timer);
          const signal = req.signal;
          return {
            status: res.status, headers: resHeaders, requestId, text: '',
            raw: { ...res, close: () => { signal?.removeEventListener('abort', onUserAbort); res.close(); } },
          };
        }
        const text = await res.text();
        if (res.status >= 200 && res.status < 300) {
          return { status: res.status, headers: resHeaders, requestId, text, raw: undefined };
        }
        const err = toAPIError(res.status, resHeaders, text, req.jobId);
        const retryAfter = parseRetryAfter(resHeaders);
        const retryable =
          isRetryableStatus(res.status) &&
          (res.status !== 409 || err.code === 'idempotency_key_in_use') &&
          (retryAfter === undefined || retryAfter <= this.config.maxRetryAfterMs);
        if (!retryable || attempt >= maxRetries) throw err;
        retryDelay = retryAfter ?? backoffMs(attempt);
      } catch (err) {
        if (err instanceof ClickvidError) throw err;
        if (req.signal?.aborted) throw new APIUserAbortError(undefined, { ...jobId, cause: err });
        const code = errorCode(err);
        const timedOut = controller.signal.reason === TIMEOUT || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === BODY_TIMEOUT;
        if (attempt >= maxRetries || !(timedOut || isRetryableNetworkError(err))) {
          if (timedOut) throw new APITimeoutError(`${req.method} ${req.path} timed out after ${timeoutMs} ms.`, { ...jobId, cause: err });
          throw new APIConnectionError(`${req.method} ${req.path} failed: ${describe(err)}`, { ...jobId, cause: err });
        }
        retryDelay = backoffMs(attempt);
      } finally {
        clearTimeout(timer);
        if (!streaming) req.signal?.removeEventListener('abort', onUserAbort);
      }
      try {
        await sleep(retryDelay, req.signal);
      } catch (cause) {
        throw new APIUserAbortError(undefined, { ...jobId, cause });
      }
    }
  }
}

/** Map an error response to its typed error, reading `{"error": {...}}` when the body has one. */
export function toAPIError(status: number, headers: Record<string, string>, text: string, jobId?: string): APIError {
  let body: ErrorBody | undefined;
  try {
    const parsed = ErrorBody.safeParse(JSON.parse(text));
    if (parsed.success) body = parsed.data;
  } catch {
    // Not JSON (a proxy's HTML page, an S3 XML error): fall through to a generic code.
  }
  const e = body?.error;
  return APIError.from({
    status,
    code: e?.code ?? `http_${status}`,
    message: e?.message ?? (text.trim().slice(0, 200) || `HTTP ${status}`),
    type: e?.type,
    param: e?.param,
    requestId: e?.request_id ?? headers['x-request-id'],
    details: e?.details,
    headers,
    jobId,
    retryAfterMs: parseRetryAfter(headers),
  });
}

function describe(err: unknown): string {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  return code && !message.includes(code) ? `${code} ${message}` : message;
}
