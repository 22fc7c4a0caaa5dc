/**
 * A real HTTP server on port 0 for SDK tests: each test says how to answer,
 * and every request is recorded. No mocks of undici.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Job } from '@clickvid/contracts';
import { afterEach } from 'vitest';
import { Clickvid, type ClientOptions } from '../src/index.js';

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

export type Handler = (req: IncomingMessage & { body: string }, res: ServerResponse, n: number) => unknown;

export interface FakeApi {
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

export async function startFakeApi(handler: Handler): Promise<FakeApi> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body, at: Date.now() });
      res.setHeader('x-request-id', `req_${requests.length}`);
      Promise.resolve(handler(Object.assign(req, { body }), res, requests.length)).catch((err) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * Per test file: `const api = useFakeApi()`, then `await api.client(handler)` in a
 * test starts a server and returns a client of it; the server closes after each test.
 */
export function useFakeApi() {
  let current: FakeApi | undefined;
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return {
    async client(handler: Handler, options: ClientOptions = {}): Promise<Clickvid> {
      current = await startFakeApi(handler);
      return new Clickvid({ apiKey: 'sk_test', baseUrl: current.url, ...options });
    },
    get url(): string {
      return current!.url;
    },
    get requests(): Recorded[] {
      return current!.requests;
    },
  };
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export function apiError(res: ServerResponse, status: number, code: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): void {
  json(res, status, { error: { type: 'test_error', code, message: `${code} happened`, request_id: `req_err_${code}`, ...extra } }, headers);
}

export function makeJob(overrides: Partial<Job> = {}): Job {
  return {
    id: 'job_0123456789abc',
    object: 'job',
    status: 'queued',
    quality: 'draft',
    prompt: 'two red circles moving right',
    params: { duration_s: 1, fps: 8, frames: 8, width: 64, height: 64, aspect_ratio: '1:1', seed: 7 },
    model: { id: 'shapes', version: '1', variant: 'int8', sha256: 'a'.repeat(64) },
    progress: 0,
    queue_position: 0,
    estimate: { gpu_seconds: 0.01, credits: 0.01 },
    usage: null,
    assets: null,
    error: null,
    warnings: [],
    metadata: {},
    parent_job_id: null,
    webhook_url: null,
    cache_hit: false,
    degraded: false,
    attempts: 0,
    created_at: '2026-11-24T06:00:00.000Z',
    started_at: null,
    finished_at: null,
    expires_at: null,
    ...overrides,
  };
}

export function succeeded(overrides: Partial<Job> = {}): Job {
  return makeJob({
    status: 'succeeded',
    progress: 1,
    queue_position: null,
    usage: { gpu_seconds: 0.004, credits: 0.004, batch_size: 1, breakdown: { inference_s: 0.003, encode_s: 0.001 } },
    assets: { video: 'asset_video1', poster: 'asset_poster1' },
    finished_at: '2026-11-24T06:00:01.000Z',
    ...overrides,
  });
}

/** Write one SSE event. */
export function sse(res: ServerResponse, type: string, data: unknown, id?: string): void {
  res.write(`${id ? `id: ${id}\n` : ''}event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
}
