/**
 * The product end to end, as a user sees it: the built server and worker as processes
 * on a private redis-server, plain HTTP, real onnxruntime on the shipped model, real
 * ffmpeg, and the MP4 checked with ffprobe and by looking at its pixels.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shippedQueries } from '../deploy/monitoring/monitoring.js';
import { exposed, unknownIn } from '../deploy/monitoring/queries.js';
import { api, startStack, waitJob, type Stack } from './harness.js';
import { blobs, decodeFrames, fraction, isBlue, isRed, probe } from './video.js';

let stack: Stack;
const tmp = mkdtempSync(path.join(tmpdir(), 'cv-e2e-'));
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => stack?.stop());

async function download(jobId: string, kind: 'video' | 'poster' = 'video') {
  const job = (await api(stack, 'GET', `/v1/jobs/${jobId}`)).body;
  const asset = (await api(stack, 'GET', `/v1/assets/${job.assets[kind]}`)).body;
  const res = await fetch(asset.url);
  expect(res.status).toBe(200);
  const bytes = Buffer.from(await res.arrayBuffer());
  const file = path.join(tmp, `${jobId}.${kind === 'video' ? 'mp4' : 'png'}`);
  writeFileSync(file, bytes);
  return { file, bytes, asset };
}

describe('prompt to MP4', () => {
  it('renders "two red circles moving right on a blue background" as a valid H.264 MP4 that follows the prompt', async () => {
    const prompt = 'two red circles moving right on a blue background';
    const sub = await api(stack, 'POST', '/v1/generate', { prompt, seed: 1234 });
    expect(sub.status).toBe(202);
    const job = await waitJob(stack, sub.body.id);
    expect(job.status).toBe('succeeded');
    expect(job.usage.gpu_seconds).toBeGreaterThan(0);
    expect(job.usage.batch_size).toBeGreaterThanOrEqual(1);
    expect(job.model.sha256).toMatch(/^[0-9a-f]{64}$/);

    const { file, bytes, asset } = await download(job.id);
    expect(asset.content_type).toBe('video/mp4');
    expect(asset.bytes).toBe(bytes.length);
    const p = await probe(file, bytes);
    expect(p).toMatchObject({ codec: 'h264', pix_fmt: 'yuv420p', width: job.params.width, height: job.params.height, frames: job.params.frames, faststart: true });
    expect(p.fps).toBeCloseTo(job.params.fps, 3);

    // The pixels follow the prompt: a blue background, two red blobs, moving right.
    const frames = await decodeFrames(file, p.width, p.height);
    const first = frames[0]!;
    const last = frames[frames.length - 1]!;
    expect(fraction(first, isBlue)).toBeGreaterThan(0.4);
    const b0 = blobs(first, p.width, p.height, isRed);
    const b1 = blobs(last, p.width, p.height, isRed);
    expect(b0).toHaveLength(2);
    expect(b1).toHaveLength(2);
    const meanX = (bs: typeof b0) => bs.reduce((s, b) => s + b.cx, 0) / bs.length;
    expect(meanX(b1) - meanX(b0)).toBeGreaterThan(p.width * 0.1);

    const poster = await download(job.id, 'poster');
    expect(poster.bytes.subarray(1, 4).toString()).toBe('PNG');
  });

  it('is deterministic: same prompt and seed → the same video (served from the output cache)', async () => {
    const body = { prompt: 'a green square bouncing on a black background', seed: 77 };
    const a = await waitJob(stack, (await api(stack, 'POST', '/v1/generate', body)).body.id);
    const b = await waitJob(stack, (await api(stack, 'POST', '/v1/generate', body)).body.id);
    expect(a.status).toBe('succeeded');
    expect(b).toMatchObject({ status: 'succeeded', cache_hit: true, usage: { gpu_seconds: 0 } });
    expect(b.assets.video).not.toBe(a.assets.video);
    const va = await download(a.id);
    const vb = await download(b.id);
    expect(vb.bytes.equals(va.bytes)).toBe(true);
  });

  it('idempotency over plain HTTP: replay, 422 on another body, 401 without a key', async () => {
    const key = `e2e-${Date.now()}`;
    const body = { prompt: 'a yellow triangle spinning on a purple background' };
    const a = await api(stack, 'POST', '/v1/generate', body, { 'idempotency-key': key });
    const b = await api(stack, 'POST', '/v1/generate', body, { 'idempotency-key': key });
    expect(b.body.id).toBe(a.body.id);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    const c = await api(stack, 'POST', '/v1/generate', { prompt: 'a white circle growing on a gray background' }, { 'idempotency-key': key });
    expect(c.status).toBe(422);
    expect(c.body.error.code).toBe('idempotency_key_reused');
    const d = await api({ url: stack.url, apiKey: '' }, 'POST', '/v1/generate', body, { authorization: '' });
    expect(d.status).toBe(401);
  });

  it('cancels a running job at its next step: no assets, status canceled', async () => {
    // Finals at the longest duration give the worker several steps to notice.
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await api(stack, 'POST', '/v1/generate', { prompt: `three blue squares moving left on a white background`, quality: 'final', duration_s: 6, seed: 500 + i })).body.id);
    }
    let canceledRunning: string | null = null;
    const deadline = Date.now() + 30_000;
    while (!canceledRunning && Date.now() < deadline) {
      for (const id of ids) {
        const j = (await api(stack, 'GET', `/v1/jobs/${id}`)).body;
        if (j.status === 'running') {
          const c = await api(stack, 'POST', `/v1/jobs/${id}/cancel`);
          if (c.status === 200) canceledRunning = id;
          break;
        }
      }
    }
    expect(canceledRunning).not.toBeNull();
    const final = await waitJob(stack, canceledRunning!);
    expect(final.status).toBe('canceled');
    expect(final.assets).toBeNull();
    // The others ran to completion.
    for (const id of ids.filter((x) => x !== canceledRunning)) expect(['succeeded', 'canceled']).toContain((await waitJob(stack, id)).status);
  });

  it('exposes progress, usage and batch metrics', async () => {
    const usage = await api(stack, 'GET', '/v1/usage');
    expect(usage.status).toBe(200);
    expect(usage.body.totals.jobs).toBeGreaterThan(0);
    const metrics = await (await fetch(`${stack.url}/metrics/cluster`)).text();
    expect(metrics).toMatch(/clickvid_batch_size_count\{[^}]*\} [1-9]/);
    expect(metrics).toMatch(/clickvid_jobs_total\{[^}]*status="succeeded"[^}]*\} [1-9]/);
    expect(metrics).toContain('clickvid_queue_depth{lane="draft"}');
  });

  it('serves every series and label that the dashboard, the alert rules and KEDA query', async () => {
    // A repeat of an earlier render is a cache hit: the cache-hit series exists too.
    const again = await api(stack, 'POST', '/v1/generate', { prompt: 'two red circles moving right on a blue background', seed: 1234 });
    expect((await waitJob(stack, again.body.id)).cache_hit).toBe(true);
    const [own, cluster] = await Promise.all(['/metrics', '/metrics/cluster'].map(async (p) => (await fetch(`${stack.url}${p}`)).text()));
    const live = exposed(own!, cluster!);
    const problems = shippedQueries().flatMap(({ where, expr }) => unknownIn(expr, live).map((p) => `${where}: ${p}`));
    expect(problems).toEqual([]);
    // Exported once: the per-process exposition carries no cluster-wide series, so a sum over replicas is right.
    expect(own).not.toMatch(/^clickvid_(jobs_total|gpu_seconds_total|queue_depth|batch_size_count)/m);
  });
});

