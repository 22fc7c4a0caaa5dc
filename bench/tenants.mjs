// Teams, keys and limits from outside: two API server processes and one worker on one
// Redis, spoken to over plain HTTP. As admin, create a free-tier team (a small daily
// quota, no finals), issue it a key, and check what the issue asks for: drafts work,
// a final and another team's job are refused, the quota holds; a revocation is
// refused on both servers within 2 s (also right after their subscribers were cut);
// restarts keep it revoked; and a burst of 100 submits over both servers against a
// quota. Prints the figures. Usage: node bench/tenants.mjs
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort, startRedis, startService, stopProcess, waitReady } from '../scripts/stack.mjs';

const ADMIN_KEY = `cv_admin_${randomBytes(32).toString('base64url')}`;
const DEV_KEY = `cv_dev_${randomBytes(24).toString('base64url')}`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'cv-tenants-'));
const redis = await startRedis({ dir: path.join(dir, 'redis') });
const conn = new Redis(redis.url);
const env = {
  CLICKVID_REDIS_URL: redis.url, CLICKVID_DATA_DIR: dir, CLICKVID_SIGNING_SECRET: randomBytes(32).toString('base64url'),
  CLICKVID_BOOTSTRAP_API_KEY: DEV_KEY, CLICKVID_ADMIN_KEY_SHA256: createHash('sha256').update(ADMIN_KEY).digest('hex'),
  CLICKVID_LOG_LEVEL: 'error', CLICKVID_ORT_THREADS: '1',
};
const ports = [await freePort(), await freePort()];
const urls = ports.map((p) => `http://127.0.0.1:${p}`);
let servers = [];
const startServers = async () => {
  servers = ports.map((p, i) => startService('server', { ...env, CLICKVID_PORT: String(p), CLICKVID_PUBLIC_URL: urls[i] }, { stdio: 'ignore' }));
  await Promise.all(urls.map((u) => waitReady(u, { timeoutMs: 90_000, procs: servers.map((s) => s.proc) })));
};
const worker = startService('worker', { ...env, CLICKVID_PUBLIC_URL: urls[0] }, { stdio: 'ignore' });
const log = (s) => process.stdout.write(`${s}\n`);

async function http(i, key, method, route, body) {
  const res = await fetch(`${urls[i]}${route}`, {
    method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}
const admin = (i, method, route, body) => http(i, ADMIN_KEY, method, route, body);
async function waitJob(key, id) {
  for (;;) {
    const { body } = await http(0, key, 'GET', `/v1/jobs/${id}`);
    if (['succeeded', 'failed', 'canceled'].includes(body.status)) return body;
    await new Promise((r) => setTimeout(r, 50));
  }
}
async function refusedOnBoth(key, t0) {
  return Promise.all([0, 1].map(async (i) => {
    while (Date.now() - t0 < 10_000) {
      if ((await http(i, key, 'GET', '/v1/jobs')).status === 401) return Date.now() - t0;
      await new Promise((r) => setTimeout(r, 20));
    }
    return Infinity;
  }));
}
async function newKey(team, name) {
  const { body } = await admin(1, 'POST', `/v1/admin/teams/${team}/keys`, { name });
  for (const i of [0, 1]) await http(i, body.key, 'GET', '/v1/jobs'); // cached on both
  return body;
}
const PROMPT = 'two red circles moving right on a blue background';

try {
  await startServers();
  const models = (await http(0, DEV_KEY, 'GET', '/v1/models')).body;
  const draftEst = models.data[0].tiers[0].estimate_gpu_seconds;
  log(`servers ${urls.join(' and ')}, one worker, Redis ${redis.url}; a draft's estimate ${draftEst} gpu-s`);

  const quota = Number((3.5 * draftEst).toFixed(4));
  const created = await admin(0, 'POST', '/v1/admin/teams', { id: 'free', name: 'Free tier', settings: { daily_gpu_seconds: quota, allowed_qualities: ['draft', 'standard'] } });
  log(`admin: POST /v1/admin/teams -> ${created.status} settings ${JSON.stringify(created.body.settings)}`);
  const key = await newKey('free', 'trial');
  log(`admin: POST /v1/admin/teams/free/keys -> key ${key.id} (${key.prefix}…)`);

  const devJob = (await http(0, DEV_KEY, 'POST', '/v1/generate', { prompt: PROMPT })).body;
  const draft = await http(0, key.key, 'POST', '/v1/generate', { prompt: PROMPT });
  log(`free draft on A: ${draft.status} -> ${(await waitJob(key.key, draft.body.id)).status}`);
  const final = await http(1, key.key, 'POST', '/v1/generate', { prompt: PROMPT, quality: 'final' });
  log(`free final on B: ${final.status} ${final.body.error.code}: ${final.body.error.message}`);
  const peek = await http(1, key.key, 'GET', `/v1/jobs/${devJob.id}`);
  const own = await http(0, key.key, 'GET', '/v1/jobs');
  log(`free reads the dev team's job: ${peek.status} ${peek.body.error.code}; its list holds ${own.body.data.length} job(s), all its own: ${own.body.data.every((j) => j.id !== devJob.id)}`);

  let accepted = 1;
  let refusal;
  for (let n = 0; n < 20 && !refusal; n++) {
    const r = await http(n % 2, key.key, 'POST', '/v1/generate', { prompt: PROMPT, seed: n });
    if (r.status === 202) { accepted++; await waitJob(key.key, r.body.id); } else refusal = r;
  }
  const usage = (await http(0, key.key, 'GET', '/v1/usage')).body.quota;
  log(`quota ${quota} gpu-s: ${accepted} drafts accepted one at a time, then ${refusal.status} ${refusal.body.error.code} (Retry-After ${refusal.headers.get('retry-after')} s); used today ${usage.used_today}`);

  // Revocation on both servers.
  let t0 = Date.now();
  await admin(0, 'POST', `/v1/admin/keys/${key.id}/revoke`);
  log(`revoke via A: refused after ${(await refusedOnBoth(key.key, t0)).join(' ms (A) / ')} ms (B)`);
  const k2 = await newKey('free', 'second');
  const killed = await conn.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
  t0 = Date.now();
  await admin(1, 'POST', `/v1/admin/keys/${k2.id}/revoke`);
  log(`CLIENT KILL TYPE pubsub (${killed} subscribers cut), revoke via B at once: refused after ${(await refusedOnBoth(k2.key, t0)).join(' ms (A) / ')} ms (B)`);
  await new Promise((r) => setTimeout(r, 500));
  const k3 = await newKey('free', 'third');
  t0 = Date.now();
  await admin(0, 'POST', `/v1/admin/keys/${k3.id}/revoke`);
  log(`after the subscribers reconnected, revoke via A: refused after ${(await refusedOnBoth(k3.key, t0)).join(' ms (A) / ')} ms (B)`);

  await Promise.all(servers.map((s) => stopProcess(s.proc)));
  await startServers();
  const after = await Promise.all([key.key, k2.key, k3.key].flatMap((k) => [0, 1].map(async (i) => (await http(i, k, 'GET', '/v1/jobs')).status)));
  log(`both servers restarted: the three revoked keys answer ${after.join(' ')}`);

  // A burst of 100 concurrent submits over both servers against a daily quota.
  // The estimate now: calibrated by the drafts metered above (the servers read the factor at start).
  const burstEst = (await http(0, DEV_KEY, 'GET', '/v1/models')).body.data[0].tiers[0].estimate_gpu_seconds;
  log(`a draft's estimate after ${accepted + 1} metered drafts: ${burstEst} gpu-s (${(burstEst / draftEst).toFixed(2)}x the manifest's)`);
  const burstQuota = Number((10.5 * burstEst).toFixed(4));
  await admin(0, 'POST', '/v1/admin/teams', { id: 'burst', settings: { daily_gpu_seconds: burstQuota } });
  const bk = await newKey('burst', 'burst');
  const res = await Promise.all(Array.from({ length: 100 }, (_, n) => http(n % 2, bk.key, 'POST', '/v1/generate', { prompt: PROMPT, seed: 1000 + n })));
  const ok = res.filter((r) => r.status === 202);
  const codes = {};
  for (const r of res) codes[r.status === 202 ? '202' : `${r.status} ${r.body.error.code}`] = (codes[`${r.status === 202 ? '202' : `${r.status} ${r.body.error.code}`}`] ?? 0) + 1;
  for (const r of ok) await waitJob(bk.key, r.body.id);
  const used = (await http(0, bk.key, 'GET', '/v1/usage')).body.quota.used_today;
  log(`burst: 100 concurrent drafts over A and B, quota ${burstQuota} gpu-s: ${JSON.stringify(codes)}; used ${used} gpu-s, ` +
    `over the quota by ${(used - burstQuota).toFixed(4)} gpu-s = ${((used - burstQuota) / burstEst).toFixed(2)} drafts' estimates (the issue asks for at most 1)`);
} finally {
  await Promise.all([...servers, worker].map((s) => stopProcess(s.proc)));
  conn.disconnect();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
