import { ClientBase, DEFAULT_BASE_URL, type CommonClientOptions } from './internal/client-base.js';
import { fetchHttp } from './internal/http-fetch.js';
import { Assets } from './resources/assets-base.js';
import { WebhookDeliveries } from './resources/webhook-deliveries.js';
import { Webhooks } from './resources/webhooks-web.js';

/** Options of {@link Clickvid} in browsers, workers and edge runtimes. */
export interface BrowserClientOptions extends CommonClientOptions {
  /** Required: there is no environment to read it from. */
  apiKey: string;
  /** The API's origin. @defaultValue the page's origin (`location.origin`), else 'http://127.0.0.1:8080' */
  baseUrl?: string | undefined;
  /** @defaultValue the global `fetch` */
  fetch?: CommonClientOptions['fetch'];
}

/**
 * The clickvid API client for browsers, web workers and edge runtimes: fetch underneath, no
 * Node built-ins. The same calls as the Node client, except that assets are fetched from their
 * signed `url` (no `download` to disk) and `webhooks` verify asynchronously over Web Crypto.
 *
 * ```ts
 * const client = new Clickvid({ apiKey });
 * const job = await client.generate({ prompt: 'two red circles moving right' });
 * const done = await client.jobs.wait(job.id, { onProgress: (j) => show(j.progress) });
 * video.src = (await client.assets.retrieve(done.assets!.video)).url;
 * ```
 */
export class Clickvid extends ClientBase {
  /** Asset metadata and signed URLs. */
  readonly assets: Assets;
  /** Verify and sign webhook deliveries (asynchronous, Web Crypto). */
  readonly webhooks: Webhooks;

  constructor(options: BrowserClientOptions) {
    const origin = (globalThis as { location?: { origin?: string } }).location?.origin;
    const fetchImpl = options.fetch ?? ((input: string, init: RequestInit) => globalThis.fetch(input, init));
    super(
      { ...options, baseUrl: options.baseUrl ?? (origin && origin !== 'null' ? origin : DEFAULT_BASE_URL) },
      fetchHttp(fetchImpl),
      undefined, // browsers do not let a script set user-agent
    );
    this.assets = new Assets(this.transport);
    this.webhooks = new Webhooks(options.webhookSecret, new WebhookDeliveries(this.transport));
  }
}
