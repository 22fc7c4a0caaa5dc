import { UsageReport, type UsageQuery } from '@clickvid/contracts';
import { APIPromise } from '../api-promise.js';
import type { RequestOptions, Transport } from '../internal/transport.js';

/** Usage: GPU-seconds and credits of the caller's team. */
export class Usage {
  /** @internal */
  constructor(private readonly transport: Transport) {}

  /** Per day, quality, model version and campaign. `from`/`to` are ISO dates (YYYY-MM-DD). */
  retrieve(query: UsageQuery = {}, options: RequestOptions = {}): APIPromise<UsageReport> {
    return new APIPromise(this.transport.json(UsageReport, { ...options, method: 'GET', path: '/v1/usage', query }));
  }
}
