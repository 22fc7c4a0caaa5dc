import type { Readable } from 'node:stream';

export interface PutOptions {
  contentType: string;
}

/** Bytes `start` to `end` of an object, both inclusive (an HTTP byte range, resolved against the size). */
export interface ByteRange {
  start: number;
  end: number;
}

/** Options of {@link Storage.signedUrl}. */
export interface SignedUrlOptions {
  /** Have the URL answer with `Content-Disposition: attachment` under this file name (a browser saves the file). */
  download?: string;
}

/** Where rendered files live. Local and S3 drivers share this interface and its tests. */
export interface Storage {
  readonly driver: 'local' | 's3';
  put(key: string, body: Buffer, opts: PutOptions): Promise<void>;
  /** The bytes, or only `range` of them; rejects with code `ENOENT` when the key does not exist. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  exists(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /**
   * A URL a client can GET without credentials until `expiresAt`. Local storage signs a
   * URL on the API server (`asset` names the asset it serves); S3 presigns.
   */
  signedUrl(key: string, asset: { id: string }, ttlS: number, opts?: SignedUrlOptions): Promise<{ url: string; expiresAt: Date }>;
  /**
   * The origin (scheme://host[:port]) its URLs point at: a browser page that shows them must
   * allow it for media and images in its Content-Security-Policy.
   */
  readonly urlOrigin: string;
  close?(): Promise<void>;
}
