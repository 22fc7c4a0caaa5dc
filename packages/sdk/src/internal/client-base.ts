import type { Job } from '@clickvid/contracts';
import type { APIPromise } from '../api-promise.js';
import { ClickvidError } from '../errors.js';
import { Events } from '../resources/events.js';
import { Jobs, type CreateOptions, type GenerateParams } from '../resources/jobs.js';
import { Models } from '../resources/models.js';
import { Prompts } from '../resources/prompts.js';
import { Usage } from '../resources/usage.js';
import type { HttpSend } from './http.js';
import { Transport } from './transport.js';

/** Options both clients share (Node's adds `dispatcher` and environment defaults). */
export interface CommonClientOptions {
  /** The API key, sent as `Authorization: Bearer …`. */
  apiKey?: string | undefined;
  /** The API's origin; paths start at /v1. */
  baseUrl?: string | undefined;
  /** Per-attempt timeout of a request (for event streams: until the headers arrive). @defaultValue 60000 */
  timeoutMs?: number | undefined;
  /** Retries after the first attempt, for 408, 409 idempotency_key_in_use, 429, 5xx and network errors. @defaultValue 2 */
  maxRetries?: number | undefined;
  /** A `Retry-After` longer than this is not waited for: the error is thrown at once (e.g. a daily quota). @defaultValue 60000 */
  maxRetryAfterMs?: number | undefined;
  /** An event stream silent for this long counts as dropped (the server sends a heartbeat every 15 s). @defaultValue 45000 */
  streamIdleTimeoutMs?: number | undefined;
  /** Secret of `webhooks.unwrap`. */
  webhookSecret?: string | undefined;
  /**
   * The `fetch` to send requests with (a proxy's, an instrumented one, a test's). In Node it
   * replaces undici's `request`; in browsers it defaults to the global `fetch`.
   */
  fetch?: ((input: string, init: RequestInit) => Promise<Response>) | undefined;
  /** Sent with every API request (not with asset downloads). */
  defaultHeaders?: Record<string, string> | undefined;
}

/** The clickvid default API origin (a local `npm start`). */
export const DEFAULT_BASE_URL = 'http://127.0.0.1:8080';

/** @internal What the Node and browser clients share: options, transport, the API resources. */
export abstract class ClientBase {
  /** Submit, inspect, list, cancel, promote, follow jobs. */
  readonly jobs: Jobs;
  /** Every job event of the caller's team, as one resumable stream. */
  readonly events: Events;
  /** GPU-seconds and credits of the caller's team. */
  readonly usage: Usage;
  /** Models and their quality tiers. */
  readonly models: Models;
  /** How the model reads a prompt: a dry run before submitting. */
  readonly prompts: Prompts;
  /** The API origin this client talks to. */
  readonly baseUrl: string;
  /** @internal */
  protected readonly transport: Transport;

  protected constructor(options: CommonClientOptions & { apiKey: string | undefined; baseUrl: string }, http: HttpSend, userAgent: string | undefined) {
    if (!options.apiKey) {
      throw new ClickvidError('No API key: pass { apiKey } to new Clickvid() or set CLICKVID_API_KEY.', { code: 'missing_api_key' });
    }
    this.baseUrl = options.baseUrl;
    this.transport = new Transport({
      apiKey: options.apiKey,
      baseUrl: this.baseUrl,
      timeoutMs: options.timeoutMs ?? 60_000,
      maxRetries: options.maxRetries ?? 2,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
      streamIdleTimeoutMs: options.streamIdleTimeoutMs ?? 45_000,
      http,
      defaultHeaders: options.defaultHeaders ?? {},
      userAgent,
    });
    this.jobs = new Jobs(this.transport);
    this.events = new Events(this.transport);
    this.usage = new Usage(this.transport);
    this.models = new Models(this.transport);
    this.prompts = new Prompts(this.transport);
  }

  /** Submit a prompt (same as `jobs.create`); resolves with the queued job. */
  generate(params: GenerateParams, options?: CreateOptions): APIPromise<Job> {
    return this.jobs.create(params, options);
  }
}
