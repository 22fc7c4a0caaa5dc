import { Asset } from '@clickvid/contracts';
import { APIPromise } from '../api-promise.js';
import type { RequestOptions, Transport } from '../internal/transport.js';

/** Assets: the video and poster files a job produced. */
export class Assets {
  /** @internal */
  constructor(
    /** @internal */
    protected readonly transport: Transport,
  ) {}

  /** Metadata and a fresh signed URL (short TTL, see `expires_at`): fetch the bytes from `url`, with no API key. */
  retrieve(id: string, options: RequestOptions = {}): APIPromise<Asset> {
    return new APIPromise(this.transport.json(Asset, { ...options, method: 'GET', path: `/v1/assets/${encodeURIComponent(id)}` }));
  }
}
