/**
 * What the fault suite counts, from the outside and from the stores themselves (never
 * read off the job record): webhook POSTs at a real receiver, asset records in Redis,
 * objects in storage, and the usage ledger through the API.
 */
import { createServer, type Server } from 'node:http';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { api, waitJob, type Stack } from '../harness.js';

export interface Receiver {
  url: string;
  /** Every POST's webhook-id, in arrival order (duplicates kept: delivery is at least once). */
  ids: string[];
  close(): Promise<void>;
}

export async function webhookReceiver(): Promise<Receiver> {
  const ids: string[] = [];
  const srv: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      ids.push(String(req.headers['webhook-id']));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/hook`, ids, close: () => new Promise((r) => srv.close(() => r())) };
}

/** Submits `n` drafts with distinct seeds (no cache hits); answers their ids. */
export async function submitDrafts(stack: Pick<Stack, 'url' | 'apiKey'>, n: number, opts: { webhookUrl?: string; seed0?: number; prompt?: string } = {}): Promise<string[]> {
  const res = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      api(stack, 'POST', '/v1/generate', {
        prompt: opts.prompt ?? 'a red circle moving right on a blue background',
        seed: (opts.seed0 ?? 0) + i,
        ...(opts.webhookUrl ? { webhook_url: opts.webhookUrl } : {}),
      }),
    ),
  );
  for (const r of res) if (r.status !== 202) throw new Error(`submit answered ${r.status}: ${JSON.stringify(r.body)}`);
  return res.map((r) => r.body.id as string);
}

export const waitAll = (stack: Pick<Stack, 'url' | 'apiKey'>, ids: string[], timeoutMs = 90_000) => Promise.all(ids.map((id) => waitJob(stack, id, timeoutMs)));

/** Asset records in Redis per job id, counted by scanning every `cv:asset:*` key. */
export async function assetRecordsByJob(redisUrl: string): Promise<Map<string, number>> {
  const r = new Redis(redisUrl);
  const out = new Map<string, number>();
  try {
    let cursor = '0';
    do {
      const [next, found] = await r.scan(cursor, 'MATCH', 'cv:asset:*', 'COUNT', 1000);
      cursor = next;
      if (found.length) {
        for (const raw of await r.mget(found)) {
          if (!raw) continue;
          const job = (JSON.parse(raw) as { job_id: string }).job_id;
          out.set(job, (out.get(job) ?? 0) + 1);
        }
      }
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  return out;
}

/** Every stored file of each job, as `<attempt>/<name>` under `<tier>/jobs/<id>/` (every tier, and the untiered `jobs/` of old). */
export function storedFilesByJob(dataDir: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const list = (dir: string, rel: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const p = path.join(dir, name);
      return statSync(p).isDirectory() ? list(p, rel ? `${rel}/${name}` : name) : [rel ? `${rel}/${name}` : name];
    });
  for (const tier of ['', 'draft', 'standard', 'final']) {
    const root = path.join(dataDir, 'storage', tier, 'jobs');
    if (!existsSync(root)) continue;
    for (const id of readdirSync(root)) out.set(id, [...(out.get(id) ?? []), ...list(path.join(root, id), '')]);
  }
  return out;
}

/** The ledger's jobs and compute (integer micro-GPU-seconds) over today, through GET /v1/usage. */
export async function ledgerTotals(stack: Pick<Stack, 'url' | 'apiKey'>): Promise<{ jobs: number; gpuMicros: number }> {
  const { body } = await api(stack, 'GET', '/v1/usage');
  return { jobs: body.totals.jobs, gpuMicros: Math.round(body.totals.gpu_seconds * 1e6) };
}

export const micros = (s: number) => Math.round(s * 1e6);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when the process has exited (by any signal). */
export function exited(proc: import('node:child_process').ChildProcess, timeoutMs = 60_000): Promise<string> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(String(proc.signalCode ?? proc.exitCode));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`process ${proc.pid} still running after ${timeoutMs} ms`)), timeoutMs);
    proc.once('exit', (code, sig) => {
      clearTimeout(t);
      resolve(String(sig ?? code));
    });
  });
}

/** Attempts each job had (its fencing tokens, read from the record): more than one = redelivered. */
export async function attemptsByJob(redisUrl: string, ids: string[]): Promise<Map<string, number>> {
  const r = new Redis(redisUrl);
  try {
    const raw = await Promise.all(ids.map((id) => r.hget(`cv:job:${id}`, '_attempts')));
    return new Map(ids.map((id, i) => [id, (raw[i] ?? '').split(' ').filter(Boolean).length]));
  } finally {
    r.disconnect();
  }
}

/** Polls until some of the jobs is running (a worker holds it). */
export async function untilRunning(stack: Pick<Stack, 'url' | 'apiKey'>, ids: string[], timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const res = await Promise.all(ids.map((id) => api(stack, 'GET', `/v1/jobs/${id}`)));
    if (res.some((r) => r.body.status === 'running')) return;
    await sleep(5);
  }
  throw new Error('no job started running');
}

/**
 * Every job has exactly two asset records and two stored objects (its video and poster), counted
 * in Redis and storage, and at most one latents file (what a draft keeps for a promotion), in the
 * same attempt's folder as those two: a losing attempt leaves nothing behind.
 */
export async function expectTwoEach(stack: Pick<Stack, 'redisUrl' | 'dataDir'>, ids: string[]): Promise<{ assets: Map<string, number>; objects: Map<string, number> }> {
  const assets = await assetRecordsByJob(stack.redisUrl);
  const files = storedFilesByJob(stack.dataDir);
  const objects = new Map([...files].map(([id, f]) => [id, f.filter((x) => !x.endsWith('/latents.f32')).length]));
  const stray = (id: string) => {
    const f = files.get(id) ?? [];
    const latents = f.filter((x) => x.endsWith('/latents.f32'));
    const dirs = new Set(f.map((x) => x.slice(0, x.lastIndexOf('/'))));
    return latents.length > 1 || dirs.size > 1;
  };
  const wrong = ids
    .filter((id) => assets.get(id) !== 2 || objects.get(id) !== 2 || stray(id))
    .map((id) => `${id}: ${assets.get(id) ?? 0} assets, ${(files.get(id) ?? []).join(', ') || 'no objects'}`);
  if (wrong.length) throw new Error(`not exactly 2 assets and 2 objects (and at most their latents beside them):\n${wrong.join('\n')}`);
  return { assets, objects };
}

/**
 * The shared env of fault stacks. The tests poll every job every 50 ms, far past the default
 * per-key rate limit. The draft lock is 10 s, not the shipped 3 s: these tests check counts
 * (one success, one bill, two files), and on a test machine starved of CPU (load 25–30 on 2
 * cores) a 3 s lock lapses while inference blocks the event loop, so jobs are redelivered
 * over and over. recovery.test.ts measures the shipped default.
 */
export const FAULT_ENV = { CLICKVID_RATE_LIMIT_PER_MIN: '1000000', CLICKVID_DRAFT_LOCK_MS: '10000' };

/** The jobs whose current attempt is held by the process `pid` (attempt tokens carry the pid in base 36). */
export async function heldBy(redisUrl: string, ids: string[], pid: number): Promise<string[]> {
  const r = new Redis(redisUrl);
  try {
    const tag = `-${pid.toString(36)}-`;
    const rows = await Promise.all(ids.map((id) => r.hmget(`cv:job:${id}`, 'status', '_attempt')));
    return ids.filter((_, i) => rows[i]![0] === '"running"' && (rows[i]![1] ?? '').includes(tag));
  } finally {
    r.disconnect();
  }
}

/** BullMQ's view of a job (for failure messages): its state fields as stored. */
export async function bullView(redisUrl: string, id: string, lane = 'draft'): Promise<string> {
  const r = new Redis(redisUrl);
  try {
    const h = await r.hmget(`bull:clickvid-${lane}:${id}`, 'failedReason', 'stc', 'atm', 'ats');
    return `failedReason=${h[0]} stalls=${h[1]} attemptsMade=${h[2]} attemptsStarted=${h[3]}`;
  } finally {
    r.disconnect();
  }
}
