import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apiError, json, makeJob, startFakeApi, useFakeApi } from '../test/fake-api.js';
import {
  APIConnectionError, APIResponseValidationError, APITimeoutError, APIUserAbortError, Clickvid, ClickvidError,
  ConflictError, InternalServerError, RateLimitError, UnprocessableEntityError, VERSION,
} from './index.js';

const api = useFakeApi();

describe('Clickvid client', () => {
  it('refuses to start without an API key', () => {
    const saved = process.env.CLICKVID_API_KEY;
    delete process.env.CLICKVID_API_KEY;
    try {
      expect(() => new Clickvid()).toThrow(ClickvidError);
      expect(() => new Clickvid()).toThrow(/CLICKVID_API_KEY/);
    } finally {
      if (saved !== undefined) process.env.CLICKVID_API_KEY = saved;
    }
  });

  it('keeps VERSION equal to package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });

  it('sends auth, user-agent, snake_case body and one idempotency key reused across retries honouring Retry-After', async () => {
    const cv = await api.client((_req, res, n) => {
      if (n === 1) return apiError(res, 503, 'service_unavailable', {}, { 'retry-after': '1' });
      json(res, 202, makeJob());
    });
    const started = Date.now();
    const job = await cv.generate({ prompt: 'two red circles', fromJob: 'job_aaaaaaaaaa', aspectRatio: '16:9' });
    expect(job.id).toBe('job_0123456789abc');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    const [first, second] = api.requests;
    expect(api.requests).toHaveLength(2);
    expect(first!.headers.authorization).toBe('Bearer sk_test');
    expect(first!.headers['user-agent']).toMatch(new RegExp(`^clickvid-sdk/${VERSION}`));
    expect(first!.headers['idempotency-key']).toMatch(/^cv-[0-9a-f-]{36}$/);
    expect(second!.headers['idempotency-key']).toBe(first!.headers['idempotency-key']);
    expect(JSON.parse(first!.body)).toEqual({ prompt: 'two red circles', from_job: 'job_aaaaaaaaaa', aspect_ratio: '16:9' });
  });

  it('makes a new key per logical call and uses the caller\'s key when given', async () => {
    const cv = await api.client((_req, res) => json(res, 202, makeJob()));
    await cv.generate({ prompt: 'a' });
    await cv.jobs.create({ prompt: 'a' });
    await cv.generate({ prompt: 'a' }, { idempotencyKey: 'my-key-1' });
    const keys = api.requests.map((r) => r.headers['idempotency-key']);
    expect(new Set(keys).size).toBe(3);
    expect(keys[2]).toBe('my-key-1');
  });

  it('honours Retry-After given as an HTTP date on 429', async () => {
    const cv = await api.client((_req, res, n) => {
      if (n === 1) return apiError(res, 429, 'rate_limited', {}, { 'retry-after': new Date(Date.now() + 2000).toUTCString() });
      json(res, 200, makeJob());
    });
    const started = Date.now();
    await cv.jobs.retrieve('job_0123456789abc');
    // An HTTP date has 1 s resolution: the wait is somewhere in (1 s, 2 s].
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(api.requests).toHaveLength(2);
    expect(api.requests[1]!.headers['x-clickvid-retry-count']).toBe('1');
  });

  it('does not wait for a Retry-After beyond maxRetryAfterMs (a daily quota)', async () => {
    const cv = await api.client((_req, res) => apiError(res, 429, 'quota_exceeded', {}, { 'retry-after': '3600' }));
    const err = await cv.generate({ prompt: 'a' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err).toMatchObject({ code: 'quota_exceeded', status: 429, retryAfterMs: 3_600_000 });
    expect(api.requests).toHaveLength(1);
  });

  it('throws typed errors with code, requestId and param, without retrying a 422', async () => {
    const cv = await api.client((_req, res) => apiError(res, 422, 'idempotency_key_reused', { param: 'Idempotency-Key' }));
    const err = await cv.generate({ prompt: 'a' }, { idempotencyKey: 'k' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnprocessableEntityError);
    expect(err).toMatchObject({ status: 422, code: 'idempotency_key_reused', requestId: 'req_err_idempotency_key_reused', param: 'Idempotency-Key' });
    expect(api.requests).toHaveLength(1);
  });

  it('retries 409 idempotency_key_in_use but not job_not_cancelable, and puts the job id on errors', async () => {
    const cv = await api.client((req, res, n) => {
      if (req.url!.endsWith('/cancel')) return apiError(res, 409, 'job_not_cancelable');
      if (n === 2) return apiError(res, 409, 'idempotency_key_in_use');
      json(res, 202, makeJob());
    }, { maxRetries: 1 });
    const err = await cv.jobs.cancel('job_0123456789abc').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({ code: 'job_not_cancelable', jobId: 'job_0123456789abc' });
    expect(api.requests).toHaveLength(1);
    await cv.generate({ prompt: 'a' });
    expect(api.requests).toHaveLength(3);
  });

  it('gives up on 5xx after maxRetries with an InternalServerError', async () => {
    const cv = await api.client((_req, res) => apiError(res, 500, 'internal_error'), { maxRetries: 2 });
    const err = await cv.models.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InternalServerError);
    expect(err).toMatchObject({ code: 'internal_error', requestId: 'req_err_internal_error' });
    expect(api.requests).toHaveLength(3);
  });

  it('maps a non-JSON error page to http_<status>', async () => {
    const cv = await api.client((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<h1>nope</h1>');
    });
    await expect(cv.jobs.retrieve('job_x')).rejects.toMatchObject({ code: 'http_404', status: 404, requestId: 'req_1' });
  });

  it('retries a reset connection and reuses the idempotency key', async () => {
    const cv = await api.client((req, res, n) => {
      if (n === 1) return void req.socket.destroy();
      json(res, 202, makeJob());
    });
    await cv.generate({ prompt: 'a' });
    expect(api.requests).toHaveLength(2);
    expect(api.requests[0]!.headers['idempotency-key']).toBe(api.requests[1]!.headers['idempotency-key']);
  });

  it('throws APIConnectionError when nothing listens', async () => {
    const dead = await startFakeApi((_req, res) => json(res, 200, {}));
    const url = dead.url;
    await dead.close();
    const cv = new Clickvid({ apiKey: 'k', baseUrl: url, maxRetries: 1 });
    const err = await cv.models.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(err).toMatchObject({ code: 'connection_error' });
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
  });

  it('times out a slow answer with APITimeoutError', async () => {
    const cv = await api.client((_req, res) => void setTimeout(() => json(res, 200, makeJob()), 1000), { timeoutMs: 100, maxRetries: 1 });
    const err = await cv.jobs.retrieve('job_0123456789abc').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APITimeoutError);
    expect(err).toMatchObject({ code: 'timeout', jobId: 'job_0123456789abc' });
    expect(api.requests).toHaveLength(2);
  });

  it('stops at once on the caller\'s abort signal', async () => {
    const cv = await api.client((_req, res) => void setTimeout(() => json(res, 200, makeJob()), 2000));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const started = Date.now();
    await expect(cv.jobs.retrieve('job_0123456789abc', { signal: ac.signal })).rejects.toBeInstanceOf(APIUserAbortError);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('rejects a 2xx body that breaks the contract', async () => {
    const cv = await api.client((_req, res) => json(res, 200, { id: 'job_1', object: 'job' }));
    await expect(cv.jobs.retrieve('job_1')).rejects.toBeInstanceOf(APIResponseValidationError);
  });

  it('promotes with quality final by default and an idempotency key', async () => {
    const cv = await api.client((_req, res) => json(res, 202, makeJob({ id: 'job_child000000', parent_job_id: 'job_0123456789abc', quality: 'final' })));
    const job = await cv.jobs.promote('job_0123456789abc', { webhookUrl: 'https://example.com/hook' });
    expect(job.parent_job_id).toBe('job_0123456789abc');
    const req = api.requests[0]!;
    expect(req.url).toBe('/v1/jobs/job_0123456789abc/promote');
    expect(JSON.parse(req.body)).toEqual({ quality: 'final', webhook_url: 'https://example.com/hook' });
    expect(req.headers['idempotency-key']).toMatch(/^cv-/);
  });
});
