import { UsageReport, type UsageQuery } from '@clickvid/contracts';
import type { RequestOptions, Transport } from '../internal/transport.js';

/** Usage: GPU-seconds and credits of the caller's team. */
export class Usage {
  constructor(private readonly transport: Transport) {}

  /** Per day, quality and campaign. `from`/`to` are ISO dates (YYYY-MM-DD). */
  async retrieve(query: UsageQuery = {}, options: RequestOptions = {}): Promise<UsageReport> {
    return (await this.transport.json(UsageReport, { ...options, method: 'GET', path: '/v1/usage', query })).data;
  }
}
