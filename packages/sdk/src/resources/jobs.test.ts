import { describe, expect, it } from 'vitest';
import type { Job } from '@clickvid/contracts';
import { apiError, json, makeJob, sse, succeeded, useFakeApi, type Handler } from '../../test/fake-api.js';
import { APIConnectionError, APIUserAbortError, JobFailedError, WaitTimeoutError } from '../index.js';

const api = useFakeApi();

const ID = 'job_0123456789abc';
const jobN = (n: number): Job => makeJob({ id: `job_${String(n).padStart(10, '0')}`, status: 'succeeded' });

describe('jobs.list', () => {
  it('returns a page and auto-paginates through next_cursor with the same filters', async () => {
    const pages: Record<string, { data: Job[]; next_cursor: string | null }> = {
      '': { data: [jobN(1), jobN(2)], next_cursor: 'c2' },
      c2: { data: [jobN(3), jobN(4)], next_cursor: 'c3' },
      c3: { data: [jobN(5)], next_cursor: null },
    };
    const cv = await api.client((req, res) => {
      const url = new URL(req.url!, 'http://x');
      json(res, 200, { object: 'list', ...pages[url.searchParams.get('cursor') ?? ''] });
    });
    const page = await cv.jobs.list({ status: 'succeeded', limit: 2 });
    expect(page.data.map((j) => j.id)).toEqual(['job_0000000001', 'job_0000000002']);
    expect(page.hasNextPage()).toBe(true);

    const ids: string[] = [];
    for await (const job of cv.jobs.list({ status: 'succeeded', limit: 2 })) ids.push(job.id);
    expect(ids).toEqual([1, 2, 3, 4, 5].map((n) => jobN(n).id));
    const last = new URL(api.requests.at(-1)!.url, 'http://x');
    expect(Object.fromEntries(last.searchParams)).toEqual({ status: 'succeeded', limit: '2', cursor: 'c3' });
  });
});

describe('withResponse', () => {
  it('gives the status, request id and headers beside the parsed body, for single calls and list pages', async () => {
    const cv = await api.client((req, res) => {
      if (req.url!.startsWith('/v1/jobs?')) return json(res, 200, { object: 'list', data: [jobN(1)], next_cursor: null }, { 'x-total': '1' });
      json(res, 202, makeJob(), { 'idempotent-replayed': 'true' });
    });
    const created = await cv.generate({ prompt: 'a' }).withResponse();
    expect(created).toMatchObject({ status: 202, requestId: 'req_1', data: { id: ID }, headers: { 'idempotent-replayed': 'true' } });
    // The same promise still awaits to the body alone.
    expect((await cv.jobs.retrieve(ID)).id).toBe(ID);
    const page = await cv.jobs.list({ limit: 1 }).withResponse();
    expect(page).toMatchObject({ status: 200, requestId: 'req_3', headers: { 'x-total': '1' } });
    expect(page.data.data.map((j) => j.id)).toEqual([jobN(1).id]);
  });
});

describe('jobs.stream', () => {
  it('parses events split across chunks, skipping comments and keeping heartbeats', async () => {
    const cv = await api.client((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': hello\n\n');
      const text =
        `event: status\r\ndata: ${JSON.stringify({ type: 'status', job: makeJob({ status: 'running' }) })}\r\n\r\n` +
        `event: heartbeat\ndata: {"type":"heartbeat"}\n\n` +
        `event: progress\ndata: ${JSON.stringify({ type: 'progress', job: makeJob({ status: 'running', progress: 0.5 }) })}\n\n`;
      // Split mid-line and mid-CRLF to exercise the parser's buffering.
      const cuts = [7, 40, 41, 130, text.length];
      let at = 0;
      const writeNext = () => {
        const cut = cuts.shift();
        if (cut === undefined) {
          sse(res, 'done', { type: 'done', job: succeeded() });
          return res.end();
        }
        res.write(text.slice(at, cut));
        at = cut;
        setTimeout(writeNext, 10);
      };
      writeNext();
    });
    const types: string[] = [];
    const progress: number[] = [];
    for await (const event of cv.jobs.stream(ID)) {
      types.push(event.type);
      if (event.job) progress.push(event.job.progress);
    }
    expect(types).toEqual(['status', 'heartbeat', 'progress', 'done']);
    expect(progress).toEqual([0, 0.5, 1]);
    expect(api.requests[0]!.headers.accept).toBe('text/event-stream');
  });

  it('reconnects once with Last-Event-ID after a dropped connection', async () => {
    const cv = await api.client((req, res, n) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (n === 1) {
        sse(res, 'status', { type: 'status', job: makeJob({ status: 'running' }) }, 'ev-1');
        return void setTimeout(() => req.socket.destroy(), 20);
      }
      sse(res, 'done', { type: 'done', job: succeeded() }, 'ev-2');
      res.end();
    });
    const types: string[] = [];
    for await (const event of cv.jobs.stream(ID)) types.push(event.type);
    expect(types).toEqual(['status', 'done']);
    expect(api.requests).toHaveLength(2);
    expect(api.requests[1]!.headers['last-event-id']).toBe('ev-1');
  });

  it('throws APIConnectionError with the job id when the stream drops twice', async () => {
    const cv = await api.client((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      sse(res, 'heartbeat', { type: 'heartbeat' });
      setTimeout(() => req.socket.destroy(), 20);
    });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const event of cv.jobs.stream(ID)) seen.push(event.type);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(err).toMatchObject({ jobId: ID });
    expect(seen).toEqual(['heartbeat', 'heartbeat']);
  });

  it('treats a silent stream as dropped after streamIdleTimeoutMs', async () => {
    const cv = await api.client((_req, res, n) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (n === 1) return void res.write(': open\n\n'); // then silence, no heartbeat
      sse(res, 'done', { type: 'done', job: succeeded() });
      res.end();
    }, { streamIdleTimeoutMs: 200 });
    const types: string[] = [];
    for await (const event of cv.jobs.stream(ID)) types.push(event.type);
    expect(types).toEqual(['done']);
  });
});

describe('jobs.wait', () => {
  /** A job that runs for `runMs` then ends as `final`, served over both SSE and GET. */
  function lifecycle(final: Job, runMs: number, opts: { sse?: boolean } = {}): Handler {
    const started = Date.now();
    const current = () => (Date.now() - started >= runMs ? final : makeJob({ status: 'running', progress: Math.min(0.99, (Date.now() - started) / runMs) }));
    return (req, res) => {
      if (req.url!.endsWith('/events')) {
        if (opts.sse === false) return apiError(res, 404, 'not_found');
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const tick = setInterval(() => {
          const job = current();
          if (job.status === final.status) {
            clearInterval(tick);
            sse(res, 'done', { type: 'done', job });
            return res.end();
          }
          sse(res, 'progress', { type: 'progress', job });
        }, 30);
        res.on('close', () => clearInterval(tick));
        return;
      }
      if (req.url!.endsWith('/cancel')) return json(res, 200, makeJob({ status: 'canceled' }));
      json(res, 200, current());
    };
  }

  it('follows the event stream to success and reports progress', async () => {
    const cv = await api.client(lifecycle(succeeded(), 200));
    const seen: number[] = [];
    const job = await cv.jobs.wait(ID, { onProgress: (j) => seen.push(j.progress) });
    expect(job.status).toBe('succeeded');
    expect(seen.length).toBeGreaterThan(2);
    expect(seen.at(-1)).toBe(1);
    expect(api.requests.filter((r) => r.url.endsWith('/events'))).toHaveLength(1);
  });

  it('falls back to polling when the event stream is unavailable, honouring Retry-After', async () => {
    const inner = lifecycle(succeeded(), 150, { sse: false });
    let polls = 0;
    const cv = await api.client((req, res, n) => {
      if (req.method === 'GET' && req.url === `/v1/jobs/${ID}` && n > 1 && ++polls === 1) {
        return apiError(res, 429, 'rate_limited', {}, { 'retry-after': '1' });
      }
      return inner(req, res, n);
    });
    const started = Date.now();
    const job = await cv.jobs.wait(ID, { pollIntervalMs: 20 });
    expect(job.status).toBe('succeeded');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('throws JobFailedError carrying the job and its error code', async () => {
    const failed = makeJob({ status: 'failed', error: { code: 'inference_failed', message: 'boom' } });
    const cv = await api.client(lifecycle(failed, 50));
    const err = await cv.jobs.wait(ID).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobFailedError);
    expect(err).toMatchObject({ code: 'inference_failed', jobId: ID, status: 'failed' });
    expect((err as JobFailedError).job.error?.message).toBe('boom');
  });

  it('times out with WaitTimeoutError and cancels the job first with cancelOnTimeout', async () => {
    const cv = await api.client(lifecycle(succeeded(), 60_000));
    const started = Date.now();
    const err = await cv.jobs.wait(ID, { timeoutMs: 300, cancelOnTimeout: true }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect(err).toMatchObject({ jobId: ID, code: 'wait_timeout', canceled: true });
    expect(api.requests.some((r) => r.method === 'POST' && r.url === `/v1/jobs/${ID}/cancel`)).toBe(true);
  });

  it('times out without canceling by default, and a second wait continues', async () => {
    const cv = await api.client(lifecycle(succeeded(), 600));
    const err = await cv.jobs.wait(ID, { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'wait_timeout', canceled: false });
    expect(api.requests.some((r) => r.url.endsWith('/cancel'))).toBe(false);
    await expect(cv.jobs.wait(ID)).resolves.toMatchObject({ status: 'succeeded' });
  });

  it('returns at once for a job that already finished', async () => {
    const cv = await api.client((_req, res) => json(res, 200, succeeded()));
    await expect(cv.jobs.wait(ID)).resolves.toMatchObject({ status: 'succeeded' });
    expect(api.requests).toHaveLength(1);
  });

  it('stops on the caller\'s signal with APIUserAbortError', async () => {
    const cv = await api.client(lifecycle(succeeded(), 60_000));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const err = await cv.jobs.wait(ID, { signal: ac.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIUserAbortError);
    expect(err).toMatchObject({ jobId: ID });
  });
});
