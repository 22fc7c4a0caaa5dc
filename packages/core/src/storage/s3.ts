import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Readable } from 'node:stream';
import type { ByteRange, PutOptions, SignedUrlOptions, Storage } from './types.js';

export interface S3Options {
  bucket: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  prefix: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** When set, URLs point at this CDN (which fronts the bucket) instead of presigned S3 URLs. */
  cdnBaseUrl?: string;
}

/** S3 (or any S3-compatible store): presigned GET URLs, optional CDN base URL. */
export class S3Storage implements Storage {
  readonly driver = 's3' as const;
  readonly urlOrigin: string;
  private readonly client: S3Client;

  constructor(private readonly opts: S3Options) {
    this.client = new S3Client({
      region: opts.region,
      forcePathStyle: opts.forcePathStyle,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      ...(opts.accessKeyId && opts.secretAccessKey
        ? { credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey } }
        : {}),
    });
    this.urlOrigin = s3Origin(opts);
  }

  private key(key: string): string {
    return `${this.opts.prefix}${key}`;
  }

  async put(key: string, body: Buffer, opts: PutOptions): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.opts.bucket, Key: this.key(key), Body: body, ContentType: opts.contentType }),
    );
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    try {
      const res = await this.client.send(
        new GetObjectCommand({ Bucket: this.opts.bucket, Key: this.key(key), ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }),
      );
      return res.Body as Readable;
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey') throw Object.assign(new Error(`no such key ${key}`), { code: 'ENOENT' });
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.opts.bucket, Key: this.key(key) }));
      return true;
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) return false;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.opts.bucket, Key: this.key(key) }));
  }

  async signedUrl(key: string, _asset: { id: string }, ttlS: number, opts: SignedUrlOptions = {}): Promise<{ url: string; expiresAt: Date }> {
    const expiresAt = new Date(Date.now() + ttlS * 1000);
    // A CDN URL is not signed, so it cannot carry a disposition: the file opens inline there.
    if (this.opts.cdnBaseUrl) return { url: `${this.opts.cdnBaseUrl.replace(/\/+$/, '')}/${this.key(key)}`, expiresAt };
    const disposition = opts.download ? { ResponseContentDisposition: `attachment; filename="${opts.download}"` } : {};
    const url = await getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.opts.bucket, Key: this.key(key), ...disposition }), {
      expiresIn: ttlS,
    });
    return { url, expiresAt };
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

/**
 * Where this store's URLs point: the CDN, the configured endpoint (path-style: the bucket is
 * in the path), or AWS's virtual-hosted bucket host.
 */
function s3Origin(opts: S3Options): string {
  if (opts.cdnBaseUrl) return new URL(opts.cdnBaseUrl).origin;
  if (opts.endpoint) {
    const u = new URL(opts.endpoint);
    return opts.forcePathStyle ? u.origin : `${u.protocol}//${opts.bucket}.${u.host}`;
  }
  return opts.forcePathStyle ? `https://s3.${opts.region}.amazonaws.com` : `https://${opts.bucket}.s3.${opts.region}.amazonaws.com`;
}
