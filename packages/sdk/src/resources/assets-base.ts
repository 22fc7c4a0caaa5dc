import { Asset } from '@clickvid/contracts';
import { APIPromise } from '../api-promise.js';
import type { RequestOptions, Transport } from '../internal/transport.js';

/** Options of `assets.retrieve`. */
export interface AssetRetrieveOptions extends RequestOptions {
  /**
   * Sign a URL that answers with `Content-Disposition: attachment`, so a browser saves the file
   * instead of playing it (not with a CDN base URL, whose URLs are not signed).
   * @defaultValue false
   */
  download?: boolean | undefined;
}

/** Assets: the video and poster files a job produced. */
export class Assets {
  /** @internal */
  constructor(
    /** @internal */
    protected readonly transport: Transport,
  ) {}

  /** Metadata and a fresh signed URL (short TTL, see `expires_at`): fetch the bytes from `url`, with no API key. */
  retrieve(id: string, options: AssetRetrieveOptions = {}): APIPromise<Asset> {
    const { download, ...rest } = options;
    return new APIPromise(
      this.transport.json(Asset, { ...rest, method: 'GET', path: `/v1/assets/${encodeURIComponent(id)}`, ...(download ? { query: { download: '1' } } : {}) }),
    );
  }
}
