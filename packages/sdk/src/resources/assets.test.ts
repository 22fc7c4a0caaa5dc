import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Asset } from '@clickvid/contracts';
import { apiError, json, useFakeApi } from '../../test/fake-api.js';
import { ClickvidError } from '../index.js';

const VIDEO = Buffer.alloc(64 * 1024, 7);
const api = useFakeApi();
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cv-assets-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

function asset(url: string, overrides: Partial<Asset> = {}): Asset {
  return {
    id: 'asset_video1', object: 'asset', job_id: 'job_0123456789abc', kind: 'video', content_type: 'video/mp4',
    bytes: VIDEO.length, width: 64, height: 64, frames: 8, duration_s: 1,
    sha256: createHash('sha256').update(VIDEO).digest('hex'), url,
    expires_at: '2026-11-24T07:00:00.000Z', created_at: '2026-11-24T06:00:00.000Z', ...overrides,
  };
}

describe('assets.download', () => {
  it('re-fetches an expired signed URL once, sends no API key to it, and writes the file atomically', async () => {
    let signatures = 0;
    const cv = await api.client((req, res) => {
      if (req.url!.startsWith('/v1/assets/asset_video1?') || req.url === '/v1/assets/asset_video1') {
        return json(res, 200, asset(`${api.url}/files/video.mp4?sig=${++signatures}`));
      }
      if (req.url!.startsWith('/files/')) {
        if (req.url!.endsWith('sig=1')) return apiError(res, 403, 'url_expired');
        res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': VIDEO.length });
        return void res.end(VIDEO);
      }
      apiError(res, 404, 'not_found');
    });
    const out = join(dir, 'nested', 'clip.mp4');
    const result = await cv.assets.download('asset_video1', out);
    expect(result).toMatchObject({ path: out, bytes: VIDEO.length });
    expect(await readFile(out)).toEqual(VIDEO);
    expect(await readdir(join(dir, 'nested'))).toEqual(['clip.mp4']);
    const fileRequests = api.requests.filter((r) => r.url.startsWith('/files/'));
    expect(fileRequests).toHaveLength(2);
    for (const r of fileRequests) expect(r.headers.authorization).toBeUndefined();
    expect(signatures).toBe(2);
  });

  it('names the file after the asset inside a directory', async () => {
    const cv = await api.client((req, res) => {
      if (req.url!.startsWith('/v1/assets/')) return json(res, 200, asset(`/files/v.mp4?sig=x`));
      res.end(VIDEO);
    });
    const result = await cv.assets.download('asset_video1', { path: dir });
    expect(result.path).toBe(join(dir, 'asset_video1.mp4'));
  });

  it('refuses a truncated or corrupt body and leaves no file behind', async () => {
    const cv = await api.client((req, res) => {
      if (req.url!.startsWith('/v1/assets/')) return json(res, 200, asset(`${api.url}/files/v.mp4`));
      res.end(VIDEO.subarray(0, 1000));
    });
    const err = await cv.assets.download('asset_video1', join(dir, 'clip.mp4')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClickvidError);
    expect(err).toMatchObject({ code: 'download_corrupt', jobId: 'job_0123456789abc' });
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('assets.retrieve', () => {
  it('asks for a download URL with download=1, and for an inline one without it', async () => {
    const cv = await api.client((req, res) => json(res, 200, asset(`${api.url}/files/video.mp4${req.url!.includes('download=1') ? '?dl' : ''}`)));
    expect((await cv.assets.retrieve('asset_video1', { download: true })).url).toMatch(/\?dl$/);
    expect((await cv.assets.retrieve('asset_video1')).url).not.toMatch(/\?dl$/);
    expect(api.requests.map((r) => r.url)).toEqual(['/v1/assets/asset_video1?download=1', '/v1/assets/asset_video1']);
  });
});
