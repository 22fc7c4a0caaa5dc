/**
 * Test harness: real parts only. `startRedis` runs a private redis-server on a free
 * port; `startStack` runs the built server and worker as processes against it, the
 * same way `npm start` does (both use scripts/stack.mjs).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
// @ts-expect-error plain ESM helper shared with scripts/start.mjs
import { freePort, ROOT, startRedis as startRedisProc, startService, stopProcess, waitReady } from '../scripts/stack.mjs';

export { ROOT };

export interface RedisHandle {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisHandle> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cv-redis-'));
  const r = await startRedisProc({ dir });
  return {
    url: r.url,
    port: r.port,
    async stop() {
      await r.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A redis-server with an AOF fsynced every second, as `npm start` runs it: the fault suite kills it. */
export async function startPersistentRedis(): Promise<RedisHandle & { proc: import('node:child_process').ChildProcess; dir: string; restart(): Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cv-redis-'));
  let r = await startRedisProc({ dir, persist: true });
  const port = r.port;
  return {
    url: r.url,
    port,
    dir,
    get proc() {
      return r.proc;
    },
    async restart() {
      r = await startRedisProc({ dir, persist: true, port });
    },
    async stop() {
      await r.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Stack {
  url: string;
  apiKey: string;
  webhookSecret: string;
  redisUrl: string;
  /** The private redis-server (with `persist`, one that can be killed and restarted on the same port). */
  redis: RedisHandle;
  dataDir: string;
  env: Record<string, string>;
  /** Restarts the worker (e.g. to change batching knobs). */
  restartWorker(extraEnv?: Record<string, string>): Promise<void>;
  /** Starts one more worker process beside the others (the fault suite kills and adds them). */
  addWorker(extraEnv?: Record<string, string>): { proc: import('node:child_process').ChildProcess };
  /** The worker processes started so far, dead or alive. */
  readonly workerProcs: import('node:child_process').ChildProcess[];
  /** Starts one more API server on its own port against the same Redis; stopped with the stack. */
  addServer(): Promise<{ url: string; proc: import('node:child_process').ChildProcess }>;
  stop(): Promise<void>;
}

export async function startStack(
  opts: { env?: Record<string, string>; workerEnv?: Record<string, string>; workers?: number; logs?: boolean; persist?: boolean } = {},
): Promise<Stack> {
  const redis = opts.persist ? await startPersistentRedis() : await startRedis();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'cv-stack-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const apiKey = `cv_test_${randomBytes(18).toString('base64url')}`;
  const webhookSecret = `whsec_${randomBytes(24).toString('base64')}`;
  const env: Record<string, string> = {
    CLICKVID_REDIS_URL: redis.url,
    CLICKVID_PORT: String(port),
    CLICKVID_PUBLIC_URL: url,
    CLICKVID_DATA_DIR: dataDir,
    CLICKVID_SIGNING_SECRET: randomBytes(32).toString('base64url'),
    CLICKVID_BOOTSTRAP_API_KEY: apiKey,
    CLICKVID_BOOTSTRAP_WEBHOOK_SECRET: webhookSecret,
    CLICKVID_ALLOW_PRIVATE_WEBHOOKS: 'true',
    CLICKVID_LOG_LEVEL: opts.logs ? 'info' : 'error',
    CLICKVID_ORT_THREADS: '1',
    ...opts.env,
  };
  // Every process's output goes to one file; an API server that dies while the stack runs prints
  // its tail, so a test that then fails on a refused connection says why the server went.
  const logFile = path.join(dataDir, 'stack.log');
  const stdio = opts.logs ? 'inherit' : openSync(logFile, 'a');
  let stopping = false;
  const watchServer = (proc: import('node:child_process').ChildProcess, what: string) =>
    proc.once('exit', (code, signal) => {
      if (stopping || opts.logs) return;
      const tail = readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n');
      process.stderr.write(`[harness] the ${what} at ${env.CLICKVID_PORT} exited while the stack ran (code ${code}, signal ${signal}); the stack's last log lines:\n${tail}\n`);
    });
  const server = startService('server', env, { stdio });
  watchServer(server.proc, 'API server');
  let workers = Array.from({ length: opts.workers ?? 1 }, () => startService('worker', { ...env, ...opts.workerEnv }, { stdio }));
  const all = [...workers];
  const servers: Array<{ proc: unknown }> = [];
  try {
    await waitReady(url, { timeoutMs: 60_000, procs: [server.proc, ...workers.map((w: { proc: unknown }) => w.proc)] });
  } catch (err) {
    stopping = true;
    await Promise.all([server, ...workers].map((s) => s.stop()));
    await redis.stop();
    throw err;
  }
  return {
    url,
    apiKey,
    webhookSecret,
    redisUrl: redis.url,
    redis,
    dataDir,
    env,
    get workerProcs() {
      return all.map((w: { proc: import('node:child_process').ChildProcess }) => w.proc);
    },
    async restartWorker(extraEnv = {}) {
      await Promise.all(workers.map((w: { stop(): Promise<void> }) => w.stop()));
      workers = [startService('worker', { ...env, ...extraEnv }, { stdio })];
      all.push(...workers);
      await waitReady(url, { timeoutMs: 60_000 });
    },
    addWorker(extraEnv = {}) {
      const w = startService('worker', { ...env, ...extraEnv }, { stdio });
      workers.push(w);
      all.push(w);
      return w;
    },
    async addServer() {
      const p = await freePort();
      const u = `http://127.0.0.1:${p}`;
      const s = startService('server', { ...env, CLICKVID_PORT: String(p), CLICKVID_PUBLIC_URL: u }, { stdio });
      servers.push(s);
      watchServer(s.proc, `API server on ${p}`);
      await waitReady(u, { timeoutMs: 60_000, procs: [s.proc] });
      return { url: u, proc: s.proc };
    },
    async stop() {
      stopping = true;
      await Promise.all([server, ...servers, ...all].map((s: { proc: unknown }) => stopProcess(s.proc, 'SIGTERM', 10_000)));
      await redis.stop();
      if (typeof stdio === 'number') closeSync(stdio);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Small JSON-over-HTTP helper for tests that speak plain HTTP, as curl would. */
export async function api(
  stack: Pick<Stack, 'url' | 'apiKey'>,
  method: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(`${stack.url}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${stack.apiKey}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Polls a job until it reaches a terminal state. */
export async function waitJob(stack: Pick<Stack, 'url' | 'apiKey'>, id: string, timeoutMs = 60_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await api(stack, 'GET', `/v1/jobs/${id}`);
    if (['succeeded', 'failed', 'canceled'].includes(body.status)) return body;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${body.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
