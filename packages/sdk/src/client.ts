import type { Dispatcher } from 'undici';
import { ClientBase, DEFAULT_BASE_URL, type CommonClientOptions } from './internal/client-base.js';
import { fetchHttp } from './internal/http-fetch.js';
import { undiciHttp } from './internal/http-undici.js';
import { Admin } from './resources/admin.js';
import { Assets } from './resources/assets.js';
import { WebhookDeliveries } from './resources/webhook-deliveries.js';
import { Webhooks } from './resources/webhooks.js';
import { VERSION } from './version.js';

export { DEFAULT_BASE_URL };

/** Options of {@link Clickvid} (Node). */
export interface ClientOptions extends CommonClientOptions {
  /** @defaultValue process.env.CLICKVID_API_KEY */
  apiKey?: string | undefined;
  /** The API's origin; paths start at /v1. @defaultValue process.env.CLICKVID_API_URL ?? 'http://127.0.0.1:8080' */
  baseUrl?: string | undefined;
  /** Secret of `webhooks.unwrap`. @defaultValue process.env.CLICKVID_WEBHOOK_SECRET */
  webhookSecret?: string | undefined;
  /** undici dispatcher (an Agent with custom TLS, a ProxyAgent, a MockAgent); unused with `fetch`. @defaultValue undici's global dispatcher */
  dispatcher?: Dispatcher | undefined;
}

/**
 * The clickvid API client for Node (undici underneath; pass `fetch` to use another).
 *
 * ```ts
 * const client = new Clickvid();
 * const job = await client.generate({ prompt: 'two red circles moving right' });
 * const done = await client.jobs.wait(job.id);
 * await client.assets.download(done.assets!.video, 'clip.mp4');
 * ```
 */
export class Clickvid extends ClientBase {
  /** Asset metadata, signed URLs, and downloads to disk. */
  readonly assets: Assets;
  /** Verify and sign webhook deliveries; list and replay them (`webhooks.deliveries`). */
  readonly webhooks: Webhooks;
  /** Teams and keys: needs an admin key as `apiKey` (Node only: an admin key has no place in a browser). */
  readonly admin: Admin;

  constructor(options: ClientOptions = {}) {
    const http = options.fetch ? fetchHttp(options.fetch) : undiciHttp(options.dispatcher);
    super(
      {
        ...options,
        apiKey: options.apiKey ?? process.env.CLICKVID_API_KEY,
        baseUrl: options.baseUrl ?? process.env.CLICKVID_API_URL ?? DEFAULT_BASE_URL,
      },
      http,
      `clickvid-sdk/${VERSION} node/${process.versions.node}`,
    );
    this.assets = new Assets(this.transport);
    this.webhooks = new Webhooks(options.webhookSecret ?? process.env.CLICKVID_WEBHOOK_SECRET, new WebhookDeliveries(this.transport));
    this.admin = new Admin(this.transport);
  }
}
