import { ModelList } from '@clickvid/contracts';
import type { RequestOptions, Transport } from '../internal/transport.js';

/** Models: versions, variants, quality tiers and their measured cost. */
export class Models {
  constructor(private readonly transport: Transport) {}

  async list(options: RequestOptions = {}): Promise<ModelList> {
    return (await this.transport.json(ModelList, { ...options, method: 'GET', path: '/v1/models' })).data;
  }
}
