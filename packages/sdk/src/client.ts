import type { Job } from '@clickvid/contracts';
import type { Dispatcher } from 'undici';
import { ClickvidError } from './errors.js';
import { Transport } from './internal/transport.js';
import { Assets } from './resources/assets.js';
import { Jobs, type CreateOptions, type GenerateParams } from './resources/jobs.js';
import { Models } from './resources/models.js';
import { Prompts } from './resources/prompts.js';
import { Usage } from './resources/usage.js';
import { Webhooks } from './resources/webhooks.js';

/** Options of {@link Clickvid}. */
export interface ClientOptions {
  /** @defaultValue process.env.CLICKVID_API_KEY */
  apiKey?: string | undefined;
  /** The API's origin; paths start at /v1. @defaultValue process.env.CLICKVID_API_URL ?? 'http://127.0.0.1:8080' */
  baseUrl?: string | undefined;
  /** Per-attempt timeout of a request (for event streams: until the headers arrive). @defaultValue 60000 */
  timeoutMs?: number | undefined;
  /** Retries after the first attempt, for 408, 409 idempotency_key_in_use, 429, 5xx and network errors. @defaultValue 2 */
  maxRetries?: number | undefined;
  /** A `Retry-After` longer than this is not waited for: the error is thrown at once (e.g. a daily quota). @defaultValue 60000 */
  maxRetryAfterMs?: number | undefined;
  /** An event stream silent for this long counts as dropped (the server sends a heartbeat every 15 s). @defaultValue 45000 */
  streamIdleTimeoutMs?: number | undefined;
  /** Secret of `webhooks.unwrap`. @defaultValue process.env.CLICKVID_WEBHOOK_SECRET */
  webhookSecret?: string | undefined;
  /** undici dispatcher (an Agent with custom TLS, a ProxyAgent, a MockAgent). @defaultValue undici's global dispatcher */
  dispatcher?: Dispatcher | undefined;
  /** Sent with every API request (not with asset downloads). */
  defaultHeaders?: Record<string, string> | undefined;
}

export const DEFAULT_BASE_URL = 'http://127.0.0.1:8080';

/**
 * The clickvid API client.
 *
 * ```ts
 * const client = new Clickvid();
 * const job = await client.generate({ prompt: 'two red circles moving right' });
 * const done = await client.jobs.wait(job.id);
 * await client.assets.download(done.assets!.video, 'clip.mp4');
 * ```
 */
export class Clickvid {
  readonly jobs: Jobs;
  readonly assets: Assets;
  readonly usage: Usage;
  readonly models: Models;
  readonly prompts: Prompts;
  readonly webhooks: Webhooks;
  readonly baseUrl: string;

  constructor(options: ClientOptions = {}) {
    const apiKey = options.apiKey ?? process.env.CLICKVID_API_KEY;
    if (!apiKey) {
      throw new ClickvidError('No API key: pass { apiKey } to new Clickvid() or set CLICKVID_API_KEY.', { code: 'missing_api_key' });
    }
    this.baseUrl = options.baseUrl ?? process.env.CLICKVID_API_URL ?? DEFAULT_BASE_URL;
    const transport = new Transport({
      apiKey,
      baseUrl: this.baseUrl,
      timeoutMs: options.timeoutMs ?? 60_000,
      maxRetries: options.maxRetries ?? 2,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
      streamIdleTimeoutMs: options.streamIdleTimeoutMs ?? 45_000,
      dispatcher: options.dispatcher,
      defaultHeaders: options.defaultHeaders ?? {},
    });
    this.jobs = new Jobs(transport);
    this.assets = new Assets(transport);
    this.usage = new Usage(transport);
    this.models = new Models(transport);
    this.prompts = new Prompts(transport);
    this.webhooks = new Webhooks(options.webhookSecret ?? process.env.CLICKVID_WEBHOOK_SECRET);
  }

  /** Submit a prompt (same as `jobs.create`); resolves with the queued job. */
  generate(params: GenerateParams, options?: CreateOptions): Promise<Job> {
    return this.jobs.create(params, options);
  }
}
