import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Asset } from '@clickvid/contracts';
import { APIConnectionError, APIUserAbortError, ClickvidError, PermissionDeniedError } from '../errors.js';
import { backoffMs, isRetryableNetworkError, isRetryableStatus, sleep } from '../internal/retry.js';
import { toAPIError } from '../internal/transport.js';
import { Assets as BaseAssets } from './assets-base.js';

/** Options of `assets.download`. */
export interface DownloadOptions {
  /** A file path, or an existing directory to put `<asset id>.<ext>` in. @defaultValue the current directory */
  path?: string | undefined;
  /** Aborts the download; no file is left behind. */
  signal?: AbortSignal | undefined;
}

/** What `assets.download` wrote. */
export interface DownloadResult {
  /** Absolute path of the written file. */
  path: string;
  /** Size of the file, checked against the asset's `bytes` and `sha256`. */
  bytes: number;
  /** The asset's metadata, as fetched for the download. */
  asset: Asset;
}

/** Assets: the video and poster files a job produced, and `download` to write one to disk (Node). */
export class Assets extends BaseAssets {
  /**
   * Download an asset to disk. Fetches a fresh signed URL, GETs it without the
   * API key (the signature is in the URL, which may be on another host), fetches
   * a new URL once if the first one has expired, streams into a temporary file
   * beside the target, checks size and sha256, and renames it into place, so the
   * target is either the whole file or untouched.
   */
  async download(id: string, dest: string | DownloadOptions = {}): Promise<DownloadResult> {
    const options = typeof dest === 'string' ? { path: dest } : dest;
    const signal = options.signal;
    let asset = await this.retrieve(id, { signal });
    const target = await targetPath(options.path, asset);
    await mkdir(dirname(target), { recursive: true });
    const { maxRetries } = this.transport.config;

    for (let attempt = 0, refreshed = false; ; attempt++) {
      const temp = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString('hex')}.part`);
      let retryDelay: number;
      try {
        const res = await this.transport.config.http({
          method: 'GET',
          url: new URL(asset.url, this.transport.config.baseUrl).toString(),
          headers: {},
          body: undefined,
          signal: signal ?? new AbortController().signal,
          headersTimeoutMs: this.transport.config.timeoutMs,
          bodyTimeoutMs: this.transport.config.timeoutMs,
        });
        if (res.status === 200) {
          const bytes = await writeVerified(res.chunks(), temp, asset);
          await rename(temp, target);
          return { path: target, bytes, asset };
        }
        const err = toAPIError(res.status, res.headers, await res.text(), asset.job_id);
        if (err instanceof PermissionDeniedError && !refreshed) {
          // Usually `url_expired` (or S3's own expiry error): a fresh signature fixes it, once.
          refreshed = true;
          asset = await this.retrieve(id, { signal });
          attempt--;
          continue;
        }
        if (!isRetryableStatus(res.status) || res.status === 409 || attempt >= maxRetries) throw err;
        retryDelay = backoffMs(attempt);
      } catch (err) {
        await unlink(temp).catch(() => {});
        if (signal?.aborted) throw new APIUserAbortError(undefined, { jobId: asset.job_id, cause: err });
        if (err instanceof ClickvidError) throw err;
        if (attempt >= maxRetries || !isRetryableNetworkError(err)) {
          throw new APIConnectionError(`Downloading asset ${id} failed: ${(err as Error).message}`, { jobId: asset.job_id, cause: err });
        }
        retryDelay = backoffMs(attempt);
      }
      try {
        await sleep(retryDelay, signal);
      } catch (cause) {
        throw new APIUserAbortError(undefined, { jobId: asset.job_id, cause });
      }
    }
  }
}

async function targetPath(path: string | undefined, asset: Asset): Promise<string> {
  const name = `${asset.id}${extension(asset.content_type)}`;
  if (path === undefined) return resolve(name);
  const isDir = await stat(path).then((s) => s.isDirectory(), () => false);
  return resolve(isDir ? join(path, name) : path);
}

function extension(contentType: string): string {
  if (contentType.includes('mp4')) return '.mp4';
  if (contentType.includes('webm')) return '.webm';
  if (contentType.includes('jpeg')) return '.jpg';
  if (contentType.includes('png')) return '.png';
  if (contentType.includes('webp')) return '.webp';
  return '';
}

/** Stream `body` to `temp`, hashing on the way; throw (and leave no file) if size or sha256 disagree with the asset. */
async function writeVerified(body: AsyncIterable<Uint8Array>, temp: string, asset: Asset): Promise<number> {
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Uint8Array, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(body, tap, createWriteStream(temp, { flags: 'wx' }));
  const sha256 = hash.digest('hex');
  if (bytes !== asset.bytes || (/^[0-9a-f]{64}$/i.test(asset.sha256) && sha256 !== asset.sha256.toLowerCase())) {
    await unlink(temp).catch(() => {});
    throw new ClickvidError(
      `Asset ${asset.id} arrived corrupt: got ${bytes} bytes sha256 ${sha256}, expected ${asset.bytes} bytes sha256 ${asset.sha256}.`,
      { code: 'download_corrupt', jobId: asset.job_id },
    );
  }
  return bytes;
}
