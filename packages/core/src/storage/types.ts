import type { Readable } from 'node:stream';

export interface PutOptions {
  contentType: string;
}

/** Where rendered files live. Local and S3 drivers share this interface and its tests. */
export interface Storage {
  readonly driver: 'local' | 's3';
  put(key: string, body: Buffer, opts: PutOptions): Promise<void>;
  /** The bytes; rejects with code `ENOENT` when the key does not exist. */
  get(key: string): Promise<Readable>;
  exists(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /**
   * A URL a client can GET without credentials until `expiresAt`. Local storage signs a
   * URL on the API server (`asset` names the asset it serves); S3 presigns.
   */
  signedUrl(key: string, asset: { id: string }, ttlS: number): Promise<{ url: string; expiresAt: Date }>;
  close?(): Promise<void>;
}
