/**
 * The browser entry as a browser gets it: the built package bundled by esbuild for
 * platform=browser (which fails on any Node built-in), then run in a vm context that has web
 * globals only (no process, require or Buffer), against a live HTTP server, over fetch.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createContext, runInContext } from 'node:vm';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { apiError, json, makeJob, sse, startFakeApi, succeeded, type FakeApi } from '../test/fake-api.js';
import { Clickvid as NodeClickvid, APIConnectionError, RateLimitError } from './index.js';

const PKG = fileURLToPath(new URL('..', import.meta.url));
const SECRET = `whsec_${Buffer.from('a browser-side webhook secret!!').toString('base64')}`;

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** `@clickvid/sdk` as a bundler targeting browsers resolves it (the `browser` condition), as one script. */
async function bundleForBrowser(): Promise<{ code: string; inputs: string[] }> {
  const result = await build({
    stdin: { contents: "export * from '@clickvid/sdk';", resolveDir: PKG, loader: 'js' },
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'ClickvidSDK',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs) };
}

/** A context with what browsers have and nothing of Node's. */
function browserContext(origin: string) {
  return createContext({
    fetch, Headers, Request, Response, ReadableStream, URL, URLSearchParams, TextEncoder, TextDecoder, AbortController, AbortSignal,
    crypto: globalThis.crypto, atob, btoa, setTimeout, clearTimeout, console, structuredClone, DOMException, Event, EventTarget,
    location: { origin },
  });
}

describe('browser entry (built; run the build first)', () => {
  it('bundles for platform=browser without undici or any Node built-in', async () => {
    const { inputs } = await bundleForBrowser();
    expect(inputs.some((f) => f.endsWith('dist/browser.js'))).toBe(true);
    expect(inputs.filter((f) => /undici|node:|sdk\/dist\/index\.js|http-undici|resources\/assets\.js|resources\/webhooks\.js/.test(f))).toEqual([]);
  });

  it('runs in a context without Node globals: calls a live server over fetch, follows a job, verifies a webhook', async () => {
    api = await startFakeApi((req, res, n) => {
      if (req.url!.endsWith('/events')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        sse(res, 'status', { type: 'status', job: makeJob({ status: 'running', progress: 0.5 }) }, 'ev-1');
        sse(res, 'done', { type: 'done', job: succeeded() }, 'ev-2');
        return res.end();
      }
      if (req.method === 'POST' && n === 1) return apiError(res, 429, 'rate_limited', {}, { 'retry-after': '0' });
      json(res, req.method === 'POST' ? 202 : 200, req.method === 'POST' ? makeJob() : makeJob({ status: 'queued' }), { 'x-custom': 'yes' });
    });
    const { code } = await bundleForBrowser();
    const context = browserContext(api.url);
    expect(runInContext('typeof process + typeof require + typeof Buffer', context)).toBe('undefinedundefinedundefined');
    runInContext(code, context);
    const body = JSON.stringify({ type: 'job.succeeded', timestamp: new Date().toISOString(), data: succeeded() });
    const signed = new Webhook(SECRET).sign('msg_1', new Date(), body);
    context.input = { body, headers: { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': signed }, secret: SECRET };
    const out = await runInContext(
      `(async () => {
        const { Clickvid } = ClickvidSDK;
        const client = new Clickvid({ apiKey: 'sk_browser', webhookSecret: input.secret });
        const created = await client.generate({ prompt: 'two red circles' }).withResponse();
        const events = [];
        for await (const e of client.jobs.stream(created.data.id)) events.push(e.type);
        const event = await client.webhooks.unwrap(input.body, input.headers);
        let tampered;
        try { await client.webhooks.unwrap(input.body.replace('succeeded', 'failed'), input.headers); } catch (e) { tampered = e.code; }
        const signedHere = await client.webhooks.sign(input.body);
        return { baseUrl: client.baseUrl, status: created.status, requestId: created.requestId, custom: created.headers['x-custom'], id: created.data.id, events, event: event.type, tampered, signedHere };
      })()`,
      context,
    );
    expect(out).toMatchObject({ baseUrl: api.url, status: 202, requestId: 'req_2', custom: 'yes', id: 'job_0123456789abc', events: ['status', 'done'], event: 'job.succeeded', tampered: 'webhook_invalid_signature' });
    // What the browser signed, the reference verifies.
    expect(new Webhook(SECRET).verify(body, out.signedHere)).toMatchObject({ type: 'job.succeeded' });
    // The 429 was retried with the same idempotency key, and no user-agent was set.
    const posts = api.requests.filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(2);
    expect(posts[1]!.headers['idempotency-key']).toBe(posts[0]!.headers['idempotency-key']);
    expect(posts[0]!.headers.authorization).toBe('Bearer sk_browser');
    expect(posts[0]!.headers['user-agent']).not.toMatch(/clickvid-sdk/);
  });
});

describe('the fetch option (Node)', () => {
  it('sends every request through the given fetch, with retries, typed errors and downloads', async () => {
    const VIDEO = Buffer.alloc(4096, 3);
    let usageCalls = 0;
    api = await startFakeApi((req, res) => {
      if (req.url === '/v1/usage' && ++usageCalls === 1) return apiError(res, 503, 'service_unavailable', {}, { 'retry-after': '0' });
      if (req.url === '/v1/usage') return apiError(res, 429, 'quota_exceeded', {}, { 'retry-after': '3600' });
      if (req.url!.startsWith('/v1/assets/')) {
        return json(res, 200, {
          id: 'asset_video1', object: 'asset', job_id: 'job_0123456789abc', kind: 'video', content_type: 'video/mp4', bytes: VIDEO.length,
          width: 64, height: 64, frames: 8, duration_s: 1, sha256: '-', url: '/files/v.mp4', expires_at: '2026-11-24T07:00:00.000Z', created_at: '2026-11-24T06:00:00.000Z',
        });
      }
      if (req.url === '/files/v.mp4') return void res.end(VIDEO);
      json(res, 200, makeJob());
    });
    const seen: string[] = [];
    const client = new NodeClickvid({
      apiKey: 'k',
      baseUrl: api.url,
      fetch: (input, init) => {
        seen.push(`${init.method} ${new URL(input).pathname}`);
        return fetch(input, init);
      },
    });
    const { data, status, requestId, headers } = await client.jobs.retrieve('job_0123456789abc').withResponse();
    expect(data.id).toBe('job_0123456789abc');
    expect({ status, requestId, type: headers['content-type'] }).toEqual({ status: 200, requestId: 'req_1', type: 'application/json' });
    const err = await client.usage.retrieve().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    const dir = await mkdtemp(join(tmpdir(), 'cv-fetch-'));
    try {
      const saved = await client.assets.download('asset_video1', join(dir, 'v.mp4'));
      expect(saved.bytes).toBe(VIDEO.length);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(seen).toEqual(['GET /v1/jobs/job_0123456789abc', 'GET /v1/usage', 'GET /v1/usage', 'GET /v1/assets/asset_video1', 'GET /files/v.mp4']);
  });

  it('maps a refused connection to APIConnectionError with the cause\'s code', async () => {
    const dead = await startFakeApi((_req, res) => json(res, 200, {}));
    await dead.close();
    const client = new NodeClickvid({ apiKey: 'k', baseUrl: dead.url, maxRetries: 0, fetch: (i, init) => fetch(i, init) });
    const err = await client.models.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIConnectionError);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
  });

  it('follows the team event stream over fetch and resumes after a drop with Last-Event-ID', async () => {
    api = await startFakeApi((_req, res, n) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const ev = (id: string, type: string) => ({ id, type, created_at: new Date().toISOString(), job: makeJob({ status: 'running' }) });
      if (n === 1) {
        sse(res, 'job.running', ev('5-0', 'job.running'), '5-0');
        return res.end(); // the server went away: the SDK reconnects
      }
      sse(res, 'job.progress', ev('6-0', 'job.progress'), '6-0');
    });
    const { code } = await bundleForBrowser();
    const context = browserContext(api.url);
    runInContext(code, context);
    const ids = await runInContext(
      `(async () => {
        const client = new ClickvidSDK.Clickvid({ apiKey: 'sk_browser' });
        const ids = [];
        for await (const e of client.events.stream()) {
          ids.push(e.id + ' ' + e.type);
          if (ids.length === 2) break;
        }
        return ids;
      })()`,
      context,
    );
    expect(ids).toEqual(['5-0 job.running', '6-0 job.progress']);
    expect(api.requests.map((r) => r.headers['last-event-id'])).toEqual([undefined, '5-0']);
  });
});
