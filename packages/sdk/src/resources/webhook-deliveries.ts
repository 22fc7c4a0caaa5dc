import { WebhookDelivery, WebhookDeliveryList, type WebhookDeliveryListQuery } from '@clickvid/contracts';
import { APIPromise } from '../api-promise.js';
import { ClickvidError } from '../errors.js';
import { newIdempotencyKey, type RequestOptions, type Transport } from '../internal/transport.js';
import type { CreateOptions } from './jobs.js';
import { Page, PagePromise } from './pagination.js';

/** Filters of `webhooks.deliveries.list`: the `WebhookDeliveryListQuery` contract, with `limit` as a number. */
export type WebhookDeliveryListParams = Omit<WebhookDeliveryListQuery, 'limit'> & {
  /** Page size, 1..100. @defaultValue 20 */
  limit?: number | undefined;
};

/**
 * Webhook deliveries of the caller's team (kept 7 days): each attempt's outcome, the next
 * retry, and replays that send the same event (same `webhook-id`, same body) again.
 */
export class WebhookDeliveries {
  /** @internal */
  constructor(private readonly transport: Transport | undefined) {}

  /**
   * One page of deliveries, newest first. `await` it for a {@link Page}, or
   * `for await (const d of client.webhooks.deliveries.list(...))` to walk all pages.
   */
  list(query: WebhookDeliveryListParams = {}, options: RequestOptions = {}): PagePromise<WebhookDelivery> {
    const transport = this.client();
    const fetchPage = (cursor?: string) =>
      transport.json(WebhookDeliveryList, {
        ...options,
        method: 'GET',
        path: '/v1/webhooks/deliveries',
        query: { ...query, ...(cursor ? { cursor } : {}) },
      });
    const next = async (cursor: string) => (await fetchPage(cursor)).data;
    return new PagePromise(fetchPage(query.cursor).then((res) => ({ ...res, data: new Page(res.data, next) })));
  }

  /** One delivery; another team's id is a NotFoundError `webhook_delivery_not_found`. */
  retrieve(id: string, options: RequestOptions = {}): APIPromise<WebhookDelivery> {
    return new APIPromise(this.client().json(WebhookDelivery, { ...options, method: 'GET', path: `/v1/webhooks/deliveries/${encodeURIComponent(id)}` }));
  }

  /** Send the delivery's event again; resolves with the new delivery (HTTP 202, `replay_of` set). */
  replay(id: string, options: CreateOptions = {}): APIPromise<WebhookDelivery> {
    const { idempotencyKey, ...rest } = options;
    return new APIPromise(
      this.client().json(WebhookDelivery, {
        ...rest,
        method: 'POST',
        path: `/v1/webhooks/deliveries/${encodeURIComponent(id)}/replay`,
        idempotencyKey: idempotencyKey ?? newIdempotencyKey(),
      }),
    );
  }

  private client(): Transport {
    // `new Webhooks(secret)` on its own verifies and signs; deliveries need the client's transport.
    if (!this.transport) throw new ClickvidError('webhooks.deliveries needs a client: use new Clickvid().webhooks.deliveries.');
    return this.transport;
  }
}
