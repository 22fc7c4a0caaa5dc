import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStorage } from './local.js';
import { S3Storage } from './s3.js';
import { verifyAssetSignature } from './signing.js';
import type { Storage } from './types.js';

// The same behaviour is asserted for both drivers: local files and an S3-compatible server.
const dirs: string[] = [];
let s3server: { close(): Promise<void> };
let s3port = 0;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cv-s3-'));
  dirs.push(dir);
  s3server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: 'renders' }] });
  const addr = await (s3server as unknown as { run(): Promise<{ port: number }> }).run();
  s3port = addr.port;
});
afterAll(async () => {
  await s3server.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const drivers: Record<string, () => Storage> = {
  local: () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cv-local-'));
    dirs.push(dir);
    return new LocalStorage(dir, 'http://api.test', 'a-signing-secret-of-32-bytes-len');
  },
  s3: () =>
    new S3Storage({
      bucket: 'renders',
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${s3port}`,
      forcePathStyle: true,
      prefix: 'clips/',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
    }),
};

for (const [name, make] of Object.entries(drivers)) {
  describe(`${name} storage`, () => {
    it('puts, reads back, reports existence and deletes', async () => {
      const s = make();
      await s.put('team/job/video.mp4', Buffer.from('hello video'), { contentType: 'video/mp4' });
      expect(await s.exists('team/job/video.mp4')).toBe(true);
      expect(await text(await s.get('team/job/video.mp4'))).toBe('hello video');
      await s.delete('team/job/video.mp4');
      expect(await s.exists('team/job/video.mp4')).toBe(false);
      await expect(s.get('team/job/video.mp4')).rejects.toBeTruthy();
    });

    it('gives a URL that fetches the bytes until it expires', async () => {
      const s = make();
      await s.put('k/poster.png', Buffer.from('png bytes'), { contentType: 'image/png' });
      const { url, expiresAt } = await s.signedUrl('k/poster.png', { id: 'ast_abc' }, 60);
      expect(expiresAt.getTime()).toBeGreaterThan(Date.now() + 55_000);
      if (name === 's3') {
        const res = await fetch(url);
        expect(res.status).toBe(200);
        expect(await res.text()).toBe('png bytes');
        expect(url).toContain('X-Amz-Expires=60');
      } else {
        const u = new URL(url);
        expect(u.pathname).toBe('/v1/assets/ast_abc/content');
        const secret = 'a-signing-secret-of-32-bytes-len';
        expect(verifyAssetSignature(secret, 'ast_abc', u.searchParams.get('expires'), u.searchParams.get('sig'))).toBe('ok');
      }
    });
  });
}

describe('local asset URL signatures', () => {
  const secret = 'another-secret-that-is-long-enough';
  const signed = () => {
    const s = new LocalStorage('/tmp/unused', 'http://api.test', secret);
    return s.signedUrl('x', { id: 'ast_1' }, 30).then(({ url }) => new URL(url).searchParams);
  };
  it('refuses a tampered signature, a tampered expiry and another asset id', async () => {
    const q = await signed();
    const sig = q.get('sig')!;
    const tampered = sig.slice(0, -1) + (sig.endsWith('A') ? 'B' : 'A');
    expect(verifyAssetSignature(secret, 'ast_1', q.get('expires'), tampered)).toBe('invalid_signature');
    expect(verifyAssetSignature(secret, 'ast_1', String(Number(q.get('expires')) + 3600), sig)).toBe('invalid_signature');
    expect(verifyAssetSignature(secret, 'ast_2', q.get('expires'), sig)).toBe('invalid_signature');
    expect(verifyAssetSignature(secret, 'ast_1', undefined, sig)).toBe('invalid_signature');
  });
  it('refuses an expired URL even with a valid signature', async () => {
    const q = await signed();
    const later = (Number(q.get('expires')) + 1) * 1000;
    expect(verifyAssetSignature(secret, 'ast_1', q.get('expires'), q.get('sig'), later)).toBe('url_expired');
  });
});
