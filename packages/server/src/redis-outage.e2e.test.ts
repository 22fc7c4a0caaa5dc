import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ErrorBody } from '@clickvid/contracts';
import type { InjectOptions } from 'fastify';
import { keys } from '@clickvid/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM helper shared with scripts/start.mjs
import { freePort, stopProcess } from '../../../scripts/stack.mjs';
import { testApp } from './internal/app.testkit.js';

/**
 * A redis-server this test kills and restarts on the same port and data directory
 * (AOF on, fsync every second), as an outage of the real thing.
 */
class ControlledRedis {
  proc: ChildProcess | null = null;
  readonly dir = mkdtempSync(path.join(tmpdir(), 'cv-outage-'));
  constructor(readonly port: number) {}
  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }
  async start() {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction'];
    this.proc = spawn('redis-server', args, { stdio: 'ignore' });
    const { Redis } = await import('ioredis');
    for (let i = 0; i < 200; i++) {
      const c = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      c.on('error', () => undefined); // refused while it starts: expected
      const ok = await c.connect().then(() => c.ping(), () => null).catch(() => null);
      c.disconnect();
      if (ok === 'PONG') return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('redis-server did not start');
  }
  async kill(signal: NodeJS.Signals = 'SIGKILL') {
    const p = this.proc!;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill(signal);
    });
    this.proc = null;
  }
  async stop() {
    if (this.proc) await stopProcess(this.proc, 'SIGTERM', 5000);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const TIMEOUT_MS = 500;
let redis: ControlledRedis;
let t: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  redis = new ControlledRedis(await freePort());
  await redis.start();
  t = await testApp({ CLICKVID_REDIS_TIMEOUT_MS: String(TIMEOUT_MS) }, { redisUrl: redis.url });
});
afterAll(async () => {
  await t?.close();
  await redis?.stop();
});

const PROMPT = 'two red circles moving right on a blue background';
const HANG_MS = 5000;
type Answer = { status: number | 'no answer'; code: string | null; ms: number };

/** A request as a client with a 5 s timeout sees it; the request itself keeps running if it hangs. */
async function call(opts: InjectOptions): Promise<Answer> {
  const start = performance.now();
  const res = await Promise.race([t.app.inject(opts), new Promise<null>((r) => setTimeout(() => r(null), HANG_MS))]);
  const ms = Math.round(performance.now() - start);
  if (!res) return { status: 'no answer', code: null, ms };
  const parsed = res.statusCode >= 400 ? ErrorBody.safeParse(res.json()) : null;
  return { status: res.statusCode, code: parsed ? (parsed.success ? parsed.data.error.code : 'not an envelope') : null, ms };
}
const submit = (campaign: string) =>
  call({ method: 'POST', url: '/v1/generate', headers: t.auth(t.keyA), payload: { prompt: PROMPT, metadata: { campaign } } });

/** Jobs in Redis whose campaign tag is one of `tags`, read straight from the records. */
async function jobsTagged(prefix: string): Promise<string[]> {
  const ids = await t.deps.redis.zrange(keys.teamJobs('alpha'), '0', '-1');
  const tags: string[] = [];
  for (const id of ids) {
    const meta = await t.deps.redis.hget(keys.job(id), 'metadata');
    const campaign = meta ? (JSON.parse(meta) as Record<string, string>).campaign : undefined;
    if (campaign?.startsWith(prefix)) tags.push(campaign);
  }
  return tags.sort();
}

async function waitUntilServing(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await t.app.inject({ url: '/readyz' })).json().checks?.redis === 'ok') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the API did not reconnect to Redis');
}

describe('Redis outage', () => {
  it('while Redis is dead: 503 service_unavailable fast, /readyz fails, /healthz stays up, and no job appears later', async () => {
    expect((await submit('up-0')).status).toBe(202);
    await redis.kill('SIGKILL');

    const answers: Record<string, Answer> = {};
    // Sequential and concurrent submits, each tagged by the client.
    for (let i = 0; i < 5; i++) answers[`down-seq-${i}`] = await submit(`down-seq-${i}`);
    const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => submit(`down-par-${i}`)));
    burst.forEach((a, i) => (answers[`down-par-${i}`] = a));
    const get = await call({ url: '/v1/jobs/job_0000000000000', headers: t.auth(t.keyA) });
    const list = await call({ url: '/v1/jobs', headers: t.auth(t.keyA) });
    const ready = await call({ url: '/readyz' });
    const health = await call({ url: '/healthz' });

    const all = [...Object.values(answers), get, list];
    const maxMs = Math.max(...all.map((a) => a.ms));
    console.log(`Redis down: ${all.length} API requests, max ${maxMs} ms, statuses ${[...new Set(all.map((a) => `${a.status} ${a.code}`))].join(', ')}; readyz ${ready.status} in ${ready.ms} ms; healthz ${health.status}`);
    // Soft: the check after the restart (did a job appear behind the client's back?) runs either way.
    for (const a of all) expect.soft({ status: a.status, code: a.code }).toEqual({ status: 503, code: 'service_unavailable' });
    expect.soft(maxMs).toBeLessThan(TIMEOUT_MS + 500);
    expect.soft(ready.status).toBe(503);
    expect.soft(ready.ms).toBeLessThan(TIMEOUT_MS + 500);
    expect.soft(health.status).toBe(200);

    await redis.start();
    await waitUntilServing();
    // Give anything still queued in a client a moment to land, as it would have before the fix.
    await new Promise((r) => setTimeout(r, 1500));
    const late = await jobsTagged('down-');
    console.log(`jobs created after their request was answered (or given up on): ${late.length}`);
    expect(late).toEqual([]);
    expect(await jobsTagged('up-')).toEqual(['up-0']);
    // And the API serves again.
    expect((await submit('up-1')).status).toBe(202);
  });

  it('while Redis is paused (connection open, no answers): 503 within CLICKVID_REDIS_TIMEOUT_MS, and nothing runs on resume', async () => {
    await waitUntilServing();
    redis.proc!.kill('SIGSTOP');
    let answers: Answer[];
    let ready: Answer;
    try {
      answers = await Promise.all(Array.from({ length: 5 }, (_, i) => submit(`paused-${i}`)));
      ready = await call({ url: '/readyz' });
    } finally {
      redis.proc!.kill('SIGCONT');
    }
    console.log(`Redis paused: ${answers.length} submits, max ${Math.max(...answers.map((a) => a.ms))} ms (timeout ${TIMEOUT_MS} ms); readyz ${ready.status} in ${ready.ms} ms`);
    for (const a of answers) expect.soft({ status: a.status, code: a.code }).toEqual({ status: 503, code: 'service_unavailable' });
    expect.soft(Math.max(...answers.map((a) => a.ms))).toBeLessThan(TIMEOUT_MS + 500);
    expect.soft(ready.status).toBe(503);
    await waitUntilServing();
    await new Promise((r) => setTimeout(r, 1000));
    expect(await jobsTagged('paused-')).toEqual([]);
    expect((await submit('up-2')).status).toBe(202);
  });
});
