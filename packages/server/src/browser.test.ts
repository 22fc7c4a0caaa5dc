/**
 * What the studio page needs from the API, through inject() on a real app and redis-server:
 * its files and CSP, CORS (off by default), byte ranges and attachments on the content route,
 * and the lineage downwards (`?parent=`).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Asset, JobList } from '@clickvid/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from './internal/app.testkit.js';

const PROMPT = 'two red circles moving right on a blue background';
const studioDir = mkdtempSync(path.join(tmpdir(), 'cv-studio-'));
mkdirSync(path.join(studioDir, 'studio'));
const INDEX = `<!doctype html><title>studio</title><script type="module" src="/studio/app-ABC.js"></script>${'<p>padding</p>'.repeat(50)}`;
writeFileSync(path.join(studioDir, 'index.html'), INDEX);
writeFileSync(path.join(studioDir, 'studio', 'app-ABC.js'), 'console.log("hi");'.repeat(40));

let t: Awaited<ReturnType<typeof testApp>>;
let cors: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  t = await testApp({ CLICKVID_STUDIO_DIR: studioDir });
  cors = await testApp({ CLICKVID_CORS_ORIGINS: 'https://studio.example.com, http://localhost:5173' });
});
afterAll(async () => {
  await t?.close();
  await cors?.close();
  rmSync(studioDir, { recursive: true, force: true });
});

describe('the studio page', () => {
  it('is served at / with a strict CSP, Trusted Types, no referrer, revalidated on each load', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toBe(INDEX);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['content-security-policy']).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' http://api.test; media-src 'self' http://api.test; " +
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'",
    );
    const again = await t.app.inject({ method: 'GET', url: '/', headers: { 'if-none-match': res.headers.etag as string } });
    expect(again.statusCode).toBe(304);
  });

  it('serves hashed files gzipped and cached for a year; an unknown file is a 404 envelope', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/studio/app-ABC.js', headers: { 'accept-encoding': 'gzip, br' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(gunzipSync(res.rawPayload).toString()).toContain('console.log');
    const missing = await t.app.inject({ method: 'GET', url: '/studio/nope.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('not_found');
  });

  it('says how to build it when it is not built', async () => {
    const unbuilt = await testApp({ CLICKVID_STUDIO_DIR: path.join(studioDir, 'nothing-here') });
    try {
      const r = await unbuilt.app.inject({ method: 'GET', url: '/' });
      expect(r.statusCode).toBe(404);
      expect(r.json().error.message).toMatch(/npm run build/);
    } finally {
      await unbuilt.close();
    }
  });

  it('allows the S3 endpoint (or the CDN) for media and images', async () => {
    const s3 = await testApp({ CLICKVID_STUDIO_DIR: studioDir, CLICKVID_STORAGE: 's3', CLICKVID_S3_BUCKET: 'renders', CLICKVID_S3_ENDPOINT: 'http://127.0.0.1:4569', CLICKVID_S3_FORCE_PATH_STYLE: 'true' });
    const cdn = await testApp({ CLICKVID_STUDIO_DIR: studioDir, CLICKVID_STORAGE: 's3', CLICKVID_S3_BUCKET: 'renders', CLICKVID_CDN_BASE_URL: 'https://cdn.example.com/clips/' });
    try {
      const a = (await s3.app.inject({ method: 'GET', url: '/' })).headers['content-security-policy'] as string;
      expect(a).toContain("media-src 'self' http://127.0.0.1:4569;");
      expect(a).toContain("img-src 'self' http://127.0.0.1:4569;");
      const b = (await cdn.app.inject({ method: 'GET', url: '/' })).headers['content-security-policy'] as string;
      expect(b).toContain("media-src 'self' https://cdn.example.com;");
    } finally {
      await s3.close();
      await cdn.close();
    }
  });
});

describe('CORS for /v1', () => {
  it('is off by default: no CORS headers for any origin', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/models', headers: { ...t.auth(t.keyA), origin: 'https://evil.example' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers a listed origin, also on errors, and preflights without a key; other origins get nothing', async () => {
    const origin = 'https://studio.example.com';
    const pre = await cors.app.inject({
      method: 'OPTIONS', url: '/v1/generate',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, idempotency-key' },
    });
    expect(pre.statusCode).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe(origin);
    expect(pre.headers['access-control-allow-headers']).toContain('idempotency-key');
    const denied = await cors.app.inject({ method: 'GET', url: '/v1/models', headers: { origin } });
    expect(denied.statusCode).toBe(401);
    expect(denied.headers['access-control-allow-origin']).toBe(origin);
    expect(denied.headers['access-control-expose-headers']).toContain('x-request-id');
    const other = await cors.app.inject({ method: 'GET', url: '/v1/models', headers: { ...cors.auth(cors.keyA), origin: 'https://evil.example' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    expect(other.headers.vary).toContain('Origin');
  });

  it('is on the event streams, whose replies are hijacked', async () => {
    const origin = 'http://localhost:5173';
    const job = (await cors.app.inject({ method: 'POST', url: '/v1/generate', headers: cors.auth(cors.keyA), payload: { prompt: PROMPT } })).json();
    const url = await cors.app.listen({ port: 0, host: '127.0.0.1' });
    const ac = new AbortController();
    try {
      const res = await fetch(`${url}/v1/jobs/${job.id}/events`, { headers: { ...cors.auth(cors.keyA), origin }, signal: ac.signal });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      expect(res.headers.get('x-request-id')).toMatch(/^req_/);
      const team = await fetch(`${url}/v1/events`, { headers: { ...cors.auth(cors.keyA), origin }, signal: ac.signal });
      expect(team.status).toBe(200);
      expect(team.headers.get('access-control-allow-origin')).toBe(origin);
    } finally {
      ac.abort();
    }
  });
});

describe('asset content for browsers', () => {
  let assetId: string;
  const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
  beforeAll(async () => {
    assetId = 'ast_studiotest0001';
    await t.deps.storage.put('jobs/job_studiotest0001/a/video.mp4', bytes, { contentType: 'video/mp4' });
    await t.deps.assets.put({
      id: assetId, team: 'alpha', job_id: 'job_studiotest0001', kind: 'video', storage_key: 'jobs/job_studiotest0001/a/video.mp4',
      content_type: 'video/mp4', bytes: bytes.length, width: 128, height: 128, frames: 16, duration_s: 2, sha256: 'x'.repeat(64), created_at: new Date().toISOString(),
    });
  });
  const signed = async (download = false) => {
    const res = await t.app.inject({ method: 'GET', url: `/v1/assets/${assetId}${download ? '?download=1' : ''}`, headers: t.auth(t.keyA) });
    const u = new URL(Asset.parse(res.json()).url);
    return `${u.pathname}${u.search}`;
  };

  it('answers a byte range with 206 and Content-Range, a range past the end with 416', async () => {
    const url = await signed();
    const whole = await t.app.inject({ method: 'GET', url });
    expect(whole.statusCode).toBe(200);
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(whole.headers['content-disposition']).toBe('inline; filename="job_studiotest0001.mp4"');
    const part = await t.app.inject({ method: 'GET', url, headers: { range: 'bytes=100-199' } });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe('bytes 100-199/1000');
    expect(part.headers['content-length']).toBe('100');
    expect(part.rawPayload.equals(bytes.subarray(100, 200))).toBe(true);
    const tail = await t.app.inject({ method: 'GET', url, headers: { range: 'bytes=-10' } });
    expect(tail.rawPayload.equals(bytes.subarray(990))).toBe(true);
    const past = await t.app.inject({ method: 'GET', url, headers: { range: 'bytes=5000-' } });
    expect(past.statusCode).toBe(416);
    expect(past.headers['content-range']).toBe('bytes */1000');
    expect(past.json().error.code).toBe('range_not_satisfiable');
  });

  it('signs a download URL that answers as an attachment', async () => {
    const res = await t.app.inject({ method: 'GET', url: await signed(true) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-disposition']).toBe('attachment; filename="job_studiotest0001.mp4"');
  });
});

describe('GET /v1/jobs?parent=', () => {
  it("lists a job's promotions and iterations, and only the caller's", async () => {
    const draft = (await t.app.inject({ method: 'POST', url: '/v1/generate', headers: t.auth(t.keyA), payload: { prompt: PROMPT } })).json();
    await t.app.inject({ method: 'POST', url: '/v1/generate', headers: t.auth(t.keyA), payload: { prompt: 'a green square' } });
    const final = (await t.app.inject({ method: 'POST', url: `/v1/jobs/${draft.id}/promote`, headers: t.auth(t.keyA), payload: {} })).json();
    const edit = (await t.app.inject({ method: 'POST', url: '/v1/generate', headers: t.auth(t.keyA), payload: { from_job: draft.id, prompt: 'two blue circles' } })).json();
    const list = JobList.parse((await t.app.inject({ method: 'GET', url: `/v1/jobs?parent=${draft.id}`, headers: t.auth(t.keyA) })).json());
    expect(list.data.map((j) => j.id)).toEqual([edit.id, final.id]);
    const theirs = JobList.parse((await t.app.inject({ method: 'GET', url: `/v1/jobs?parent=${draft.id}`, headers: t.auth(t.keyB) })).json());
    expect(theirs.data).toEqual([]);
    const bad = await t.app.inject({ method: 'GET', url: '/v1/jobs?parent=nope', headers: t.auth(t.keyA) });
    expect(bad.statusCode).toBe(400);
  });
});
