/**
 * A small in-memory clickvid API on a real node:http server, for CLI tests:
 * idempotent generate (replays a key, 422 on a reused key with another body),
 * jobs that succeed after `renderMs` (or fail when the prompt says FAIL),
 * polling only (events answer 404, so the SDK falls back), assets and models.
 */
import { createHash } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Asset, Job, ModelList } from '@clickvid/contracts';

export interface FakeStack {
  url: string;
  apiKey: string;
  jobs: Map<string, Job>;
  generateCalls: { key: string | undefined; body: unknown }[];
  close(): Promise<void>;
}

export const VIDEO_BYTES = Buffer.from('fake mp4 bytes '.repeat(100));

export async function startFakeStack(opts: { renderMs?: number; gpuSecondsPerJob?: number; msPerVideo?: number } = {}): Promise<FakeStack> {
  const apiKey = 'sk_fake';
  const jobs = new Map<string, Job>();
  const created = new Map<string, number>();
  const byKey = new Map<string, { body: string; jobId: string }>();
  const generateCalls: FakeStack['generateCalls'] = [];
  const sha = createHash('sha256').update(VIDEO_BYTES).digest('hex');
  let seq = 0;
  let url = '';

  const view = (id: string): Job => {
    const job = jobs.get(id)!;
    if (job.status !== 'queued' || Date.now() - created.get(id)! < (opts.renderMs ?? 50)) return job;
    const fail = job.prompt.includes('FAIL');
    const usage = { gpu_seconds: opts.gpuSecondsPerJob ?? 0.004, credits: opts.gpuSecondsPerJob ?? 0.004, batch_size: 1, breakdown: { inference_s: 0.003, encode_s: 0.001 } };
    const done: Job = fail
      ? { ...job, status: 'failed', error: { code: 'inference_failed', message: 'the fake failed it' }, usage, finished_at: new Date().toISOString() }
      : { ...job, status: 'succeeded', progress: 1, queue_position: null, usage, assets: { video: `asset_v${id.slice(4)}`, poster: `asset_p${id.slice(4)}` }, finished_at: new Date().toISOString() };
    jobs.set(id, done);
    return done;
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const u = new URL(req.url!, 'http://x');
      const send = (status: number, value: unknown, headers: Record<string, string> = {}) => json(res, status, value, headers);
      if (u.pathname.startsWith('/files/')) {
        res.writeHead(200, { 'content-type': 'video/mp4' });
        return void res.end(VIDEO_BYTES);
      }
      if (req.headers.authorization !== `Bearer ${apiKey}`) return err(res, 401, 'invalid_api_key');
      let m: RegExpMatchArray | null;
      if (req.method === 'POST' && u.pathname === '/v1/generate') {
        const key = req.headers['idempotency-key'] as string | undefined;
        generateCalls.push({ key, body: JSON.parse(body) });
        const previous = key ? byKey.get(key) : undefined;
        if (previous && previous.body !== body) return err(res, 422, 'idempotency_key_reused');
        if (previous) return send(202, view(previous.jobId), { 'idempotent-replayed': 'true' });
        const params = JSON.parse(body) as { prompt: string; quality?: Job['quality']; seed?: number; metadata?: Record<string, string> };
        const id = `job_${String(++seq).padStart(12, '0')}`;
        jobs.set(id, makeJob(id, params));
        created.set(id, Date.now());
        if (key) byKey.set(key, { body, jobId: id });
        return send(202, jobs.get(id));
      }
      if (req.method === 'GET' && u.pathname === '/v1/jobs') {
        const campaign = u.searchParams.get('campaign');
        const data = [...jobs.keys()].map(view).filter((j) => !campaign || j.metadata.campaign === campaign);
        return send(200, { object: 'list', data, next_cursor: null });
      }
      if ((m = u.pathname.match(/^\/v1\/jobs\/([^/]+)(\/events|\/cancel)?$/))) {
        if (!jobs.has(m[1]!)) return err(res, 404, 'job_not_found');
        if (m[2] === '/events') return err(res, 404, 'not_found');
        return send(200, view(m[1]!));
      }
      if ((m = u.pathname.match(/^\/v1\/assets\/asset_v(.+)$/))) {
        const asset: Asset = {
          id: `asset_v${m[1]}`, object: 'asset', job_id: `job_${m[1]}`, kind: 'video', content_type: 'video/mp4', bytes: VIDEO_BYTES.length,
          width: 64, height: 64, frames: 8, duration_s: 1, sha256: sha, url: `${url}/files/${m[1]}.mp4?sig=x`,
          expires_at: new Date(Date.now() + 60_000).toISOString(), created_at: new Date().toISOString(),
        };
        return send(200, asset);
      }
      if (u.pathname === '/v1/models') return send(200, models(opts.msPerVideo ?? 4));
      if (u.pathname === '/v1/usage') {
        const day = new Date().toISOString().slice(0, 10);
        return send(200, { object: 'usage', team: 'team_fake', from: day, to: day, data: [], totals: { jobs: 0, gpu_seconds: 0, credits: 0 }, quota: { gpu_seconds_per_day: null, used_today: 0 } });
      }
      err(res, 404, 'not_found');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url, apiKey, jobs, generateCalls,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': 'req_fake', ...headers });
  res.end(JSON.stringify(value));
}

function err(res: ServerResponse, status: number, code: string) {
  json(res, status, { error: { type: 'test', code, message: `${code} (fake)`, request_id: 'req_fake' } });
}

function makeJob(id: string, p: { prompt: string; quality?: Job['quality']; seed?: number; metadata?: Record<string, string> }): Job {
  return {
    id, object: 'job', status: 'queued', quality: p.quality ?? 'draft', prompt: p.prompt,
    params: { duration_s: 1, fps: 8, frames: 8, width: 64, height: 64, aspect_ratio: '1:1', seed: p.seed ?? 1 },
    model: { id: 'shapes', version: '1', variant: 'int8', sha256: 'a'.repeat(64) },
    progress: 0, queue_position: 0, estimate: { gpu_seconds: 0.004, credits: 0.004 }, usage: null, assets: null, error: null,
    warnings: [], metadata: p.metadata ?? {}, parent_job_id: null, webhook_url: null, cache_hit: false, degraded: false, attempts: 0,
    created_at: new Date().toISOString(), started_at: null, finished_at: null, expires_at: null,
  };
}

function models(msPerVideo: number): ModelList {
  const tier = (quality: 'draft' | 'standard' | 'final', k: number) => ({
    quality, variant: 'int8', precision: 'int8', width: 64, height: 64, fps: 8, duration_s: 1, max_duration_s: 4, max_batch: 8,
    ms_per_video: { '1': msPerVideo * k, '8': (msPerVideo * k) / 2 }, credits_per_gpu_second: 1,
    // What the real server publishes for 8 frames of 64x64: inference at batch 1 + 10.8192 ms of encode.
    estimate_gpu_seconds: (msPerVideo * k + 10.8192) / 1000,
  });
  return {
    object: 'list',
    data: [{ id: 'shapes', object: 'model', version: '1', channel: 'stable', traffic_share: 1, description: 'fake', variants: [], vocabulary: [], aspect_ratios: ['1:1'], tiers: [tier('draft', 1), tier('standard', 2), tier('final', 5)] }],
  };
}
