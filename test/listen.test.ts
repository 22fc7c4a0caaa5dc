/**
 * `clickvid listen --forward-to URL` as a developer runs it: the built CLI follows the team's
 * event stream of a real stack and forwards each event, signed, to a local receiver. The
 * listener is killed (SIGKILL) halfway through 20 jobs and restarted after they all ended:
 * the receiver must end with every event of the team stream, each once, and every body must
 * verify with the reference Standard Webhooks library.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRedis, keys } from '@clickvid/core';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN } from '../packages/cli/test/run-cli.js';
import { api, startStack, waitJob, type Stack } from './harness.js';

let stack: Stack;
const dir = mkdtempSync(path.join(tmpdir(), 'cv-listen-'));
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const until = async (what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 120_000) => {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('clickvid listen', () => {
  it('forwards every event of 20 jobs exactly once across a SIGKILL and a restart, signed', async () => {
    const wh = new Webhook(stack.webhookSecret);
    const got: Array<{ id: string; type: string; job: string }> = [];
    const rx = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const h = { 'webhook-id': String(req.headers['webhook-id']), 'webhook-timestamp': String(req.headers['webhook-timestamp']), 'webhook-signature': String(req.headers['webhook-signature']) };
        const event = wh.verify(body, h) as { type: string; data: { id: string } }; // throws on a bad signature: a 500, and the test fails below
        got.push({ id: h['webhook-id'], type: event.type, job: event.data.id });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => rx.listen(0, '127.0.0.1', () => r()));
    const target = `http://127.0.0.1:${(rx.address() as AddressInfo).port}/hooks`;
    const state = path.join(dir, 'listen.json');
    // From the start of the team's stream: nothing submitted below can slip past a listener still connecting.
    writeFileSync(state, JSON.stringify({ last_event_id: '0-0' }));
    const env = { ...process.env, CLICKVID_API_URL: stack.url, CLICKVID_API_KEY: stack.apiKey, CLICKVID_WEBHOOK_SECRET: stack.webhookSecret, XDG_CONFIG_HOME: dir };
    const lines: string[] = [];
    const start = (): ChildProcess => {
      const p = spawn(process.execPath, [CLI_BIN, 'listen', '--forward-to', target, '--state', state, '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      p.stdout!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
      return p;
    };

    let listener = start();
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await api(stack, 'POST', '/v1/generate', { prompt: `a red circle moving right on a blue background`, seed: i + 1 });
      expect(res.status).toBe(202);
      ids.push(res.body.id);
    }
    const terminal = () => got.filter((g) => g.type === 'job.succeeded').length;
    await until('10 jobs forwarded', () => terminal() >= 10);
    listener.kill('SIGKILL');
    await new Promise((r) => listener.once('exit', r));
    const beforeKill = got.length;
    for (const id of ids) expect((await waitJob(stack, id)).status).toBe('succeeded');

    listener = start();
    // The ground truth: the team's stream in Redis.
    const redis = createRedis(stack.redisUrl);
    const entries = (await redis.xrange(keys.teamEvents('dev'), '-', '+')) as Array<[string, string[]]>;
    redis.disconnect();
    const expected = entries.map(([id]) => `evt_${id}`);
    await until('every event forwarded', () => new Set(got.map((g) => g.id)).size >= expected.length);
    listener.kill('SIGTERM');

    expect([...new Set(got.map((g) => g.id))].sort()).toEqual([...expected].sort());
    // Exactly once: the state file is written after each 2xx, so only an event whose 2xx
    // arrived in the instant before the SIGKILL could be sent again (receivers dedupe on webhook-id).
    const dupes = got.length - new Set(got.map((g) => g.id)).size;
    expect(dupes).toBeLessThanOrEqual(1);
    console.log(`listen: ${expected.length} events of 20 jobs; ${beforeKill} forwarded before the kill, ${got.length - beforeKill} after the restart; ${dupes} sent twice`);
    // In stream order, per job: queued first, succeeded last.
    for (const id of ids) {
      const mine = got.filter((g) => g.job === id).map((g) => g.type);
      expect(mine[0]).toBe('job.queued');
      expect(mine.at(-1)).toBe('job.succeeded');
    }
    expect(lines.map((l) => JSON.parse(l).id).every((id: string) => /^\d+-\d+$/.test(id))).toBe(true);
    await new Promise<void>((r) => rx.close(() => r()));
  });
});
