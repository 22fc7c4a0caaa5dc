/**
 * OpenTelemetry traces end to end: the server and the worker export OTLP/HTTP (JSON) to a
 * receiver in this test; one job's trace holds the submit, the queue wait, the worker's attempt,
 * inference per engine unit, encode, upload, the success script and the webhook delivery, parented
 * across processes through the W3C context carried in the BullMQ job data. (That with tracing off
 * no OpenTelemetry SDK module loads is checked on test/canary.test.ts's stack.)
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRedis, QUEUE_NAMES } from '@clickvid/core';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startStack, waitJob, type Stack } from './harness.js';
import { TRACE_HOOK } from './trace-modules.js';

interface Span {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  links: { traceId: string; spanId: string }[];
  attributes: Record<string, unknown>;
  start: number;
  end: number;
}

type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
const value = (v: AnyValue) => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.boolValue ?? v.doubleValue));
const attrs = (list: { key: string; value: AnyValue }[] = []) => Object.fromEntries(list.map((a) => [a.key, value(a.value)]));

/** A minimal OTLP/HTTP receiver: POST /v1/traces with the JSON encoding the exporter sends. */
function otlpReceiver(): Promise<{ url: string; spans: Span[]; server: Server }> {
  const spans: Span[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d));
    req.on('end', () => {
      if (req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
        res.writeHead(415).end();
        return;
      }
      for (const rs of JSON.parse(body).resourceSpans ?? []) {
        const service = String(attrs(rs.resource?.attributes)['service.name']);
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({
              service, name: s.name, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? '',
              links: (s.links ?? []).map((l: { traceId: string; spanId: string }) => ({ traceId: l.traceId, spanId: l.spanId })),
              attributes: attrs(s.attributes), start: Number(BigInt(s.startTimeUnixNano) / 1000n) / 1000, end: Number(BigInt(s.endTimeUnixNano) / 1000n) / 1000,
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, server })));
}

let stack: Stack;
let stopped = false;
let otlp: Awaited<ReturnType<typeof otlpReceiver>>;
let hooks: Server;
let hookUrl: string;
const delivered: string[] = [];
const traceLog = path.join(tmpdir(), `cv-tracing-modules-${process.pid}.txt`);
const hookFile = path.join(tmpdir(), `cv-tracing-hook-${process.pid}.mjs`);

beforeAll(async () => {
  otlp = await otlpReceiver();
  hooks = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      delivered.push(String(req.headers['webhook-id']));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hook`;
  writeFileSync(hookFile, TRACE_HOOK);
  stack = await startStack({
    env: {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      NODE_OPTIONS: `--import ${hookFile}`,
      CV_TRACE: traceLog,
    },
    // Rows per call capped only by the lane's max batch, so that queued drafts share a call.
    workerEnv: { CLICKVID_UNIT_MS: '10000' },
  });
}, 120_000);

afterAll(async () => {
  if (!stopped) await stack?.stop();
  await new Promise((r) => otlp?.server.close(r));
  await new Promise((r) => hooks?.close(r));
  rmSync(hookFile, { force: true });
  rmSync(traceLog, { force: true });
});

/** Waits until the trace has spans of all these names (the exporters send every 100 ms). */
async function traceWith(traceId: string, names: string[], timeoutMs = 30_000): Promise<Span[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spans = otlp.spans.filter((s) => s.traceId === traceId);
    const missing = names.filter((n) => !spans.some((s) => s.name === n));
    if (missing.length === 0) return spans;
    if (Date.now() > deadline) throw new Error(`trace ${traceId} lacks ${missing.join(', ')}; has ${spans.map((s) => s.name).join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('traces', () => {
  it('one job\'s trace has spans from the server and the worker, parented across processes, covering every stage', async () => {
    // The caller's own trace continues: its traceparent header is the submit span's parent.
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const res = await api(stack, 'POST', '/v1/generate', { prompt: 'a red circle moving right on a blue background', webhook_url: hookUrl }, {
      traceparent: `00-${traceId}-${callerSpan}-01`,
    });
    expect(res.status).toBe(202);
    expect(await waitJob(stack, res.body.id)).toMatchObject({ status: 'succeeded' });

    const spans = await traceWith(traceId, ['POST /v1/generate', 'queue.wait', 'worker.job', 'inference', 'engine.decode', 'encode', 'upload', 'job.succeed', 'webhook.deliver']);
    expect(delivered).toHaveLength(1);
    const one = (name: string) => {
      const found = spans.filter((s) => s.name === name);
      expect(found, name).toHaveLength(1);
      return found[0]!;
    };
    const submit = one('POST /v1/generate');
    expect(submit).toMatchObject({ service: 'clickvid-server', parentSpanId: callerSpan, attributes: { 'http.response.status_code': 202 } });
    // The worker's spans hang off the submit through the context carried in the BullMQ job data.
    const job = one('worker.job');
    expect(job).toMatchObject({ service: 'clickvid-worker', parentSpanId: submit.spanId, attributes: { 'clickvid.job_id': res.body.id, 'clickvid.model_version': res.body.model.version, 'clickvid.outcome': 'succeeded' } });
    expect(one('queue.wait')).toMatchObject({ service: 'clickvid-worker', parentSpanId: submit.spanId });
    const inference = one('inference');
    expect(inference.parentSpanId).toBe(job.spanId);
    // Every engine unit the job was in, recorded from the engine thread's timings, inside the inference span.
    const units = spans.filter((s) => s.name === 'engine.decode');
    expect(units.length).toBeGreaterThan(0);
    for (const u of units) {
      expect(u).toMatchObject({ service: 'clickvid-worker', parentSpanId: inference.spanId, attributes: { 'clickvid.lane': 'draft', 'clickvid.frames': 16 } });
      expect(u.start).toBeGreaterThanOrEqual(inference.start - 1);
      expect(u.end).toBeLessThanOrEqual(inference.end + 1);
    }
    for (const n of ['encode', 'upload', 'job.succeed']) expect(one(n), n).toMatchObject({ service: 'clickvid-worker', parentSpanId: job.spanId });
    // The webhook goes out from the server, a child of the submit (its context kept on the job record).
    expect(one('webhook.deliver')).toMatchObject({ service: 'clickvid-server', parentSpanId: submit.spanId, attributes: { 'clickvid.event': 'job.succeeded' } });
    // Stages in order.
    expect(one('queue.wait').end).toBeLessThanOrEqual(inference.start + 1);
    expect(inference.end).toBeLessThanOrEqual(one('upload').start + 1);
    expect(one('upload').end).toBeLessThanOrEqual(one('job.succeed').start + 1);
  }, 120_000);

  it('a unit that batched several jobs is in each job\'s trace, linked to the other jobs\' inference spans', async () => {
    const redis = createRedis(stack.redisUrl);
    const draft = new Queue(QUEUE_NAMES.draft, { connection: redis });
    try {
      // Queued while paused and released at once, as a burst makes a backlog.
      await draft.pause();
      const ids: string[] = [];
      for (let i = 0; i < 8; i++) {
        const r = await api(stack, 'POST', '/v1/generate', { prompt: 'a blue square moving left on a white background', seed: 500 + i });
        expect(r.status).toBe(202);
        ids.push(r.body.id);
      }
      await draft.resume();
      for (const id of ids) expect(await waitJob(stack, id)).toMatchObject({ status: 'succeeded' });
      const jobSpans = await pollFor(() => ids.map((id) => otlp.spans.find((s) => s.name === 'worker.job' && s.attributes['clickvid.job_id'] === id)));
      const inferences = await pollFor(() => jobSpans.map((j) => otlp.spans.find((s) => s.name === 'inference' && s.parentSpanId === j.spanId)));
      const inferenceIds = new Set(inferences.map((s) => s.spanId));
      const batched = otlp.spans.filter((s) => s.name === 'engine.decode' && inferenceIds.has(s.parentSpanId) && Number(s.attributes['clickvid.batch_size']) > 1);
      expect(batched.length).toBeGreaterThan(0);
      for (const u of batched) {
        expect(u.links).toHaveLength(Number(u.attributes['clickvid.batch_size']) - 1);
        for (const l of u.links) {
          expect(inferenceIds.has(l.spanId)).toBe(true);
          expect(l.spanId).not.toBe(u.parentSpanId);
        }
      }
    } finally {
      await draft.close();
      redis.disconnect();
    }
  }, 120_000);

  it('with tracing on, both processes load the OpenTelemetry SDK', async () => {
    await stack.stop();
    stopped = true;
    const loaded = readFileSync(traceLog, 'utf8');
    expect(loaded).toContain('/packages/worker/dist/');
    expect(loaded).toContain('/packages/server/dist/');
    expect(loaded).toContain('/node_modules/@opentelemetry/sdk-trace-base/');
  }, 60_000);
});

/** Polls until every element is found. */
async function pollFor<T>(get: () => (T | undefined)[], timeoutMs = 15_000): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = get();
    if (got.every((x) => x !== undefined)) return got as T[];
    if (Date.now() > deadline) throw new Error(`found ${got.filter((x) => x !== undefined).length} of ${got.length}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
