import { ModelList } from '@clickvid/contracts';
import { APIPromise } from '../api-promise.js';
import type { RequestOptions, Transport } from '../internal/transport.js';

/** Models: versions, variants, quality tiers and their measured cost. */
export class Models {
  /** @internal */
  constructor(private readonly transport: Transport) {}

  /** Every model version the server serves (the stable one and a canary, with their share of new jobs), with its tiers. */
  list(options: RequestOptions = {}): APIPromise<ModelList> {
    return new APIPromise(this.transport.json(ModelList, { ...options, method: 'GET', path: '/v1/models' }));
  }
}
