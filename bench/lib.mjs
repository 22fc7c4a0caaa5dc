// Shared by the bench scripts: find a running stack (CLICKVID_API_URL/KEY, or the
// .clickvid/dev.json that `npm start` writes), or start a private one; plain HTTP helpers.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, ROOT, startRedis, startService, stopProcess, waitReady } from '../scripts/stack.mjs';

export { ROOT };

/** A private stack: redis-server, API server and `workers` workers, with env overrides. */
export async function startPrivateStack({ env = {}, workers = 1 } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cv-bench-'));
  const redis = await startRedis({ dir: path.join(dir, 'redis') });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const apiKey = `cv_bench_${randomBytes(16).toString('base64url')}`;
  const base = {
    CLICKVID_REDIS_URL: redis.url, CLICKVID_PORT: String(port), CLICKVID_PUBLIC_URL: url, CLICKVID_DATA_DIR: dir,
    CLICKVID_SIGNING_SECRET: randomBytes(32).toString('base64url'), CLICKVID_BOOTSTRAP_API_KEY: apiKey,
    CLICKVID_LOG_LEVEL: 'error', CLICKVID_RATE_LIMIT_PER_MIN: '1000000', ...env,
  };
  const server = startService('server', base, { stdio: 'ignore' });
  let ws = [];
  const stopAll = async () => {
    await Promise.all([server, ...ws].map((s) => stopProcess(s.proc)));
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  const startWorkers = async (extra = {}) => {
    await Promise.all(ws.map((w) => stopProcess(w.proc)));
    ws = Array.from({ length: workers }, () => startService('worker', { ...base, ...extra }, { stdio: 'ignore' }));
    if (workers > 0) await waitReady(url, { timeoutMs: 60_000, procs: ws.map((w) => w.proc) });
  };
  try {
    if (workers > 0) await startWorkers();
    else await waitHealthy(url);
  } catch (err) {
    await stopAll(); // nothing left running when the stack cannot start
    throw err;
  }
  return {
    url, apiKey, private: true, redisUrl: redis.url,
    /** The stack's processes by role, for {@link cpuSeconds}. */
    pids: () => ({ server: server.proc.pid, redis: redis.proc.pid, workers: ws.map((w) => w.proc.pid) }),
    /** Restart the workers with other settings (e.g. CLICKVID_DRAFT_MAX_BATCH=1). */
    restartWorkers: startWorkers,
    stop: stopAll,
  };
}

async function waitHealthy(url) {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

/** The stack `npm start` runs, if it is up; else null. */
export async function runningStack() {
  let url = process.env.CLICKVID_API_URL;
  let apiKey = process.env.CLICKVID_API_KEY;
  const dev = path.join(ROOT, '.clickvid', 'dev.json');
  if ((!url || !apiKey) && existsSync(dev)) ({ url, apiKey } = JSON.parse(readFileSync(dev, 'utf8')));
  if (!url || !apiKey) return null;
  try {
    if (!(await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) })).ok) return null;
  } catch {
    return null;
  }
  return { url, apiKey, private: false, stop: async () => {} };
}

export async function api(stack, method, route, body, headers = {}) {
  const res = await fetch(`${stack.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${stack.apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (res.status >= 400) throw new Error(`${method} ${route} → ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Resolves with the terminal job, read from the job's server-sent events. */
export async function waitDone(stack, id) {
  const res = await fetch(`${stack.url}/v1/jobs/${id}/events`, { headers: { authorization: `Bearer ${stack.apiKey}` } });
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`event stream of ${id} ended without done`);
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      // A block is `id:`, `event:` and `data:` lines, in any order.
      const lines = block.split('\n');
      if (lines.includes('event: done')) {
        await reader.cancel().catch(() => {});
        return JSON.parse(lines.find((l) => l.startsWith('data: ')).slice(6)).job;
      }
    }
  }
}

export const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
export const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
export const ms = (x) => `${x.toFixed(1)} ms`;

/** Mean of a cluster-wide histogram (the API's /metrics/cluster), optionally filtered by a label substring. */
export async function histogramMean(stack, name, labelFilter = '') {
  const text = await (await fetch(`${stack.url}/metrics/cluster`)).text();
  let sum = 0, count = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}_sum`) && line.includes(labelFilter)) sum += Number(line.split(' ').pop());
    if (line.startsWith(`${name}_count`) && line.includes(labelFilter)) count += Number(line.split(' ').pop());
  }
  return { sum, count, mean: count ? sum / count : NaN };
}

export function machine() {
  return `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

/**
 * CPU seconds a process has used (user + system), with those of its children it has
 * reaped (the worker's ffmpeg processes) counted apart. Linux /proc only.
 */
export function cpuSeconds(pid) {
  // Fields after the ")" that ends the command name: utime is the 12th, stime, cutime, cstime follow.
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const tick = 100; // USER_HZ: 100 on Linux
  return { self: (Number(f[11]) + Number(f[12])) / tick, children: (Number(f[13]) + Number(f[14])) / tick };
}
