import { createReadStream, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { assetSignature } from './signing.js';
import type { ByteRange, PutOptions, SignedUrlOptions, Storage } from './types.js';

/** Files under a directory; the API server serves them behind HMAC-signed, expiring URLs. */
export class LocalStorage implements Storage {
  readonly driver = 'local' as const;
  readonly urlOrigin: string;

  constructor(
    private readonly dir: string,
    private readonly publicUrl: string,
    private readonly secret: string,
  ) {
    sweepPartials(path.join(dir, '.partial'));
    this.urlOrigin = new URL(publicUrl).origin;
  }

  private file(key: string): string {
    const file = path.resolve(this.dir, key);
    if (!file.startsWith(path.resolve(this.dir) + path.sep)) throw new Error(`storage key escapes the storage dir: ${key}`);
    return file;
  }

  async put(key: string, body: Buffer, _opts: PutOptions): Promise<void> {
    const file = this.file(key);
    await mkdir(path.dirname(file), { recursive: true });
    // Write then rename, so a reader never sees half a file. The partial file lives outside
    // the key's folder: one left by a process killed mid-write (as S3 leaves nothing) is
    // not an object of the job, and the folder holds exactly what was stored.
    const partials = path.join(this.dir, '.partial');
    await mkdir(partials, { recursive: true });
    const tmp = path.join(partials, `${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}`);
    await writeFile(tmp, body);
    await rename(tmp, file);
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const file = this.file(key);
    await stat(file);
    return createReadStream(file, range);
  }

  async exists(key: string): Promise<boolean> {
    return stat(this.file(key)).then(
      () => true,
      () => false,
    );
  }

  async delete(key: string): Promise<void> {
    await rm(this.file(key), { force: true });
  }

  async signedUrl(_key: string, asset: { id: string }, ttlS: number, opts: SignedUrlOptions = {}): Promise<{ url: string; expiresAt: Date }> {
    const expires = Math.floor(Date.now() / 1000) + ttlS;
    const sig = assetSignature(this.secret, asset.id, expires);
    // The content route names the file itself; `download` only turns inline into attachment.
    return {
      url: `${this.publicUrl}/v1/assets/${asset.id}/content?expires=${expires}&sig=${sig}${opts.download ? '&download=1' : ''}`,
      expiresAt: new Date(expires * 1000),
    };
  }
}

/** Removes partial files older than an hour: left by processes killed mid-write. */
function sweepPartials(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // none yet
  }
  const cutoff = Date.now() - 3_600_000;
  for (const n of names) {
    const f = path.join(dir, n);
    try {
      if (statSync(f).mtimeMs < cutoff) rmSync(f, { force: true });
    } catch {
      /* another process took it */
    }
  }
}
