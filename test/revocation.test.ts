/**
 * Two API server processes on one Redis, spoken to over plain HTTP: revocation reaches
 * both within 2 s (also when a subscriber lost its connection), survives restarts, and
 * the per-key rate limit is one budget across both.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRedis, type Redis } from '@clickvid/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM helper shared with scripts/start.mjs
import { freePort, startService, stopProcess } from '../scripts/stack.mjs';
import { api, startRedis, type RedisHandle } from './harness.js';

const ADMIN_KEY = `cv_admin_${randomBytes(24).toString('base64url')}`;
const BOOTSTRAP_KEY = `cv_test_${randomBytes(18).toString('base64url')}`;
let redis: RedisHandle;
let conn: Redis;
let dataDir: string;
let servers: { url: string; proc: unknown }[] = [];
let env: Record<string, string>;

async function startServers(): Promise<void> {
  servers = await Promise.all([0, 1].map(async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const svc = startService('server', { ...env, CLICKVID_PORT: String(port), CLICKVID_PUBLIC_URL: url }, { stdio: 'ignore' });
    for (let i = 0; ; i++) {
      if (svc.proc.exitCode !== null) throw new Error(`server exited (${svc.proc.exitCode})`);
      if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
      if (i > 600) throw new Error('server not up in 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    return { url, proc: svc.proc };
  }));
}
const stopServers = () => Promise.all(servers.map((s) => stopProcess(s.proc, 'SIGTERM', 10_000)));

const asAdmin = (i: number, method: string, route: string, body?: unknown) => api({ url: servers[i]!.url, apiKey: ADMIN_KEY }, method, route, body);
const status = async (i: number, key: string) => (await api({ url: servers[i]!.url, apiKey: key }, 'GET', '/v1/jobs')).status;

/** Milliseconds until both servers refuse the key (polled every 25 ms), or Infinity after 5 s. */
async function msUntilRefusedOnBoth(key: string, since: number): Promise<number[]> {
  return Promise.all([0, 1].map(async (i) => {
    while (Date.now() - since < 5000) {
      if ((await status(i, key)) === 401) return Date.now() - since;
      await new Promise((r) => setTimeout(r, 25));
    }
    return Infinity;
  }));
}

async function newKey(team: string, name: string): Promise<{ id: string; key: string }> {
  const res = await asAdmin(1, 'POST', `/v1/admin/teams/${team}/keys`, { name });
  expect(res.status).toBe(201);
  // Both servers have it cached before the revocation.
  for (const i of [0, 1]) for (let n = 0; n < 3; n++) expect(await status(i, res.body.key)).toBe(200);
  return res.body;
}

beforeAll(async () => {
  redis = await startRedis();
  conn = createRedis(redis.url);
  dataDir = mkdtempSync(path.join(tmpdir(), 'cv-revoke-'));
  env = {
    CLICKVID_REDIS_URL: redis.url,
    CLICKVID_DATA_DIR: dataDir,
    CLICKVID_SIGNING_SECRET: randomBytes(32).toString('base64url'),
    CLICKVID_BOOTSTRAP_API_KEY: BOOTSTRAP_KEY,
    CLICKVID_ADMIN_KEY_SHA256: createHash('sha256').update(ADMIN_KEY).digest('hex'),
    CLICKVID_LOG_LEVEL: 'error',
  };
  await startServers();
  expect((await asAdmin(0, 'POST', '/v1/admin/teams', { id: 'free', settings: { allowed_qualities: ['draft'], rate_limits: { reads_per_min: 6 } } })).status).toBe(201);
});
afterAll(async () => {
  await stopServers();
  conn?.disconnect();
  await redis?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('two API servers on one Redis', () => {
  const revoked: string[] = [];

  it('a key revoked on one server is refused by both within 2 s', async () => {
    const k = await newKey('free', 'first');
    const t0 = Date.now();
    expect((await asAdmin(0, 'POST', `/v1/admin/keys/${k.id}/revoke`)).status).toBe(200);
    const ms = await msUntilRefusedOnBoth(k.key, t0);
    console.log(`revocation: refused after ${ms.join(' ms / ')} ms (server A / server B)`);
    for (const m of ms) expect(m).toBeLessThan(2000);
    revoked.push(k.key);
  });

  it('also when the subscribers were disconnected and the message may be missed', async () => {
    const k = await newKey('free', 'second');
    // Kills every pub/sub connection (both servers' subscribers); they reconnect on their own.
    const killed = Number(await conn.call('CLIENT', 'KILL', 'TYPE', 'pubsub'));
    expect(killed).toBeGreaterThanOrEqual(2);
    const t0 = Date.now();
    expect((await asAdmin(1, 'POST', `/v1/admin/keys/${k.id}/revoke`)).status).toBe(200);
    const ms = await msUntilRefusedOnBoth(k.key, t0);
    console.log(`revocation during subscriber reconnect: refused after ${ms.join(' ms / ')} ms`);
    for (const m of ms) expect(m).toBeLessThan(2000);
    revoked.push(k.key);

    // After the reconnect, messages arrive again.
    await new Promise((r) => setTimeout(r, 500));
    const k3 = await newKey('free', 'third');
    const t1 = Date.now();
    await asAdmin(0, 'POST', `/v1/admin/keys/${k3.id}/revoke`);
    const ms3 = await msUntilRefusedOnBoth(k3.key, t1);
    console.log(`revocation after the reconnect: refused after ${ms3.join(' ms / ')} ms`);
    for (const m of ms3) expect(m).toBeLessThan(2000);
    revoked.push(k3.key);
  });

  it('counts one rate limit for a key across both servers', async () => {
    const k = await newKey('free', 'limited'); // 6 reads on each server spent already
    await conn.eval("for _, k in ipairs(redis.call('KEYS', 'cv:rl:*')) do redis.call('DEL', k) end", 0);
    const codes: number[] = [];
    for (let n = 0; n < 8; n++) codes.push(await status(n % 2, k.key));
    console.log(`reads_per_min 6, 8 reads alternating over A and B: ${codes.join(' ')}`);
    expect(codes).toEqual([200, 200, 200, 200, 200, 200, 429, 429]);
  });

  it('revoked keys, the bootstrap key included, stay revoked when both servers restart', async () => {
    const devKeys = await asAdmin(0, 'GET', '/v1/admin/teams/dev/keys');
    const boot = devKeys.body.data.find((k: { name: string }) => k.name === 'bootstrap');
    expect(await status(0, BOOTSTRAP_KEY)).toBe(200);
    await asAdmin(0, 'POST', `/v1/admin/keys/${boot.id}/revoke`);
    const live = await newKey('dev', 'survivor');
    await stopServers();
    await startServers(); // each start runs the bootstrap with CLICKVID_BOOTSTRAP_API_KEY again
    for (const i of [0, 1]) {
      for (const key of [...revoked, BOOTSTRAP_KEY]) expect(await status(i, key)).toBe(401);
      expect(await status(i, live.key)).toBe(200);
    }
  });
});
