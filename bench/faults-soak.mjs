// The long form of the fault suite: a soak of many drafts on a private stack (AOF Redis,
// one API server, several workers) while a worker is SIGKILLed and replaced every few
// seconds. Reports failures, redeliveries, webhook events, ledger vs records, RSS slope
// per process after warm-up, Redis keys without a TTL and Redis bytes per job (in all, and
// what clickvid's own keys take apart from BullMQ's), redeliveries and false stalls.
//
//   node bench/faults-soak.mjs [--jobs 10000] [--workers 2] [--kill-every-s 20] [--in-flight 200]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, startRedis, startService, stopProcess, waitReady } from '../scripts/stack.mjs';

const { values: o } = parseArgs({ options: { jobs: { type: 'string', default: '10000' }, workers: { type: 'string', default: '2' }, 'kill-every-s': { type: 'string', default: '20' }, 'in-flight': { type: 'string', default: '200' } } });
const N = Number(o.jobs), W = Number(o.workers), KILL_S = Number(o['kill-every-s']), IN_FLIGHT = Number(o['in-flight']);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(path.join(os.tmpdir(), 'cv-soak-'));
const redis = await startRedis({ dir: path.join(dir, 'redis'), persist: true });
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const apiKey = `cv_soak_${randomBytes(16).toString('base64url')}`;
const env = {
  CLICKVID_REDIS_URL: redis.url, CLICKVID_PORT: String(port), CLICKVID_PUBLIC_URL: url, CLICKVID_DATA_DIR: dir,
  CLICKVID_SIGNING_SECRET: randomBytes(32).toString('base64url'), CLICKVID_BOOTSTRAP_API_KEY: apiKey,
  CLICKVID_LOG_LEVEL: 'error', CLICKVID_RATE_LIMIT_PER_MIN: '1000000', CLICKVID_ALLOW_PRIVATE_WEBHOOKS: 'true',
};

// Webhook receiver: a job is done when its event arrives.
const events = new Map(); // job id → status
let posts = 0;
let onEvent = () => {};
const hooks = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    posts++;
    const e = JSON.parse(body);
    events.set(e.data.id, e.data);
    res.writeHead(204).end();
    onEvent();
  });
});
await new Promise((r) => hooks.listen(0, '127.0.0.1', r));
const hookUrl = `http://127.0.0.1:${hooks.address().port}/hook`;

const server = startService('server', env, { stdio: 'ignore' });
const workers = Array.from({ length: W }, () => startService('worker', env, { stdio: 'ignore' }));
// Fails at once, naming the process, if one exits (a bad setting stops it with exit 78).
await waitReady(url, { timeoutMs: 120_000, procs: [server.proc, ...workers.map((w) => w.proc)] });

const rss = new Map(); // label → [[t, MB]]
const sample = (label, pid) => {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
    (rss.get(label) ?? rss.set(label, []).get(label)).push([Date.now(), kb / 1024]);
  } catch { /* gone */ }
};
// Redis before any job: what the stack itself holds (teams, keys, BullMQ's queue metadata).
const baseline = await (async () => {
  const c = new Redis(redis.url);
  const m = Number(/used_memory:(\d+)/.exec(await c.info('memory'))[1]);
  c.disconnect();
  return m;
})();
const t0 = Date.now();
const sampler = setInterval(() => {
  sample('server', server.proc.pid);
  sample('redis', redis.proc.pid);
  workers.forEach((w, i) => sample(`worker${i}@${w.proc.pid}`, w.proc.pid));
}, 5000);

let kills = 0;
const killer = KILL_S > 0 ? setInterval(() => {
  const i = kills++ % workers.length;
  workers[i].proc.kill('SIGKILL');
  workers[i] = startService('worker', env, { stdio: 'ignore' });
}, KILL_S * 1000) : null;

let submitted = 0, refused = 0;
const ids = [];
while (submitted < N) {
  while (submitted - events.size >= IN_FLIGHT) await new Promise((r) => (onEvent = r));
  const batch = Math.min(50, N - submitted, IN_FLIGHT - (submitted - events.size));
  const res = await Promise.all(Array.from({ length: batch }, (_, k) => fetch(`${url}/v1/generate`, {
    method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'a red circle moving right on a blue background', seed: submitted + k, webhook_url: hookUrl }),
  }).then(async (r) => ({ status: r.status, body: await r.json() })).catch(() => ({ status: 0 }))));
  for (const r of res) (r.status === 202 ? ids.push(r.body.id) : refused++);
  submitted += batch;
  if (submitted % 1000 < 50) process.stdout.write(`submitted ${submitted}, done ${events.size}, kills ${kills}\n`);
}
const deadline = Date.now() + 300_000;
while (events.size < ids.length && Date.now() < deadline) await sleep(500);
clearInterval(sampler);
if (killer) clearInterval(killer);
const wallS = (Date.now() - t0) / 1000;

const r = new Redis(redis.url);
const statuses = [...events.values()].reduce((m, j) => m.set(j.status, (m.get(j.status) ?? 0) + 1), new Map());
const attempts = await Promise.all(ids.map((id) => r.hget(`cv:job:${id}`, '_attempts')));
const redelivered = attempts.filter((a) => (a ?? '').split(' ').filter(Boolean).length > 1).length;
const usage = await (await fetch(`${url}/v1/usage`, { headers: { authorization: `Bearer ${apiKey}` } })).json();
const recordMicros = [...events.values()].reduce((s, j) => s + Math.round((j.usage?.gpu_seconds ?? 0) * 1e6), 0);
const noTtl = new Map();
let cursor = '0', keysTotal = 0;
do {
  const [next, found] = await r.scan(cursor, 'COUNT', 1000);
  cursor = next;
  keysTotal += found.length;
  const ttls = await Promise.all(found.map((k) => r.ttl(k)));
  found.forEach((k, i) => { if (ttls[i] === -1) { const p = k.split(':').slice(0, 2).join(':'); noTtl.set(p, (noTtl.get(p) ?? 0) + 1); } });
} while (cursor !== '0');
const mem = Number(/used_memory:(\d+)/.exec(await r.info('memory'))[1]);
// What clickvid keeps per job (MEMORY USAGE, sampled): the record, its two asset records, its
// share of the retention sets, the team index and the output cache; the rest is BullMQ's.
const sampled = ids.slice(0, 500);
const bytesOf = async (ks) => (await Promise.all(ks.map((k) => r.memory('USAGE', k, 'SAMPLES', '0')))).reduce((a, b) => a + (Number(b) || 0), 0);
const recordB = await bytesOf(sampled.map((id) => `cv:job:${id}`));
const assetIds = (await Promise.all(sampled.map((id) => r.hget(`cv:job:${id}`, 'assets')))).flatMap((a) => (a ? Object.values(JSON.parse(a)) : []));
const assetB = await bytesOf(assetIds.map((a) => `cv:asset:${a}`));
const shared = async (pattern) => { const ks = []; let c = '0'; do { const [n, f] = await r.scan(c, 'MATCH', pattern, 'COUNT', 1000); c = n; ks.push(...f); } while (c !== '0'); return bytesOf(ks); };
const retentionB = await bytesOf(['cv:retention:files', 'cv:retention:jobs']);
const indexB = await shared('cv:team:*:jobs');
const cacheB = await shared('cv:cache:*');
const bullB = await shared('bull:*');
const metrics = await r.hgetall('cv:metrics');
const counter = (name) => Object.entries(metrics).filter(([f]) => f.startsWith(`${name}|`)).reduce((s, [, v]) => s + Number(v), 0);
r.disconnect();

const slope = (pts) => {
  const xs = pts.slice(Math.floor(pts.length / 5)); // after warm-up
  if (xs.length < 3) return NaN;
  const mx = xs.reduce((s, p) => s + p[0], 0) / xs.length, my = xs.reduce((s, p) => s + p[1], 0) / xs.length;
  const b = xs.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0) / xs.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  return b * (xs[xs.length - 1][0] - xs[0][0]); // MB over the run after warm-up
};
console.log(`\nsoak: ${N} submitted, ${ids.length} accepted, ${refused} refused, ${wallS.toFixed(0)} s, ${kills} worker SIGKILLs`);
console.log(`terminal: ${JSON.stringify(Object.fromEntries(statuses))}; missing events: ${ids.length - events.size}; webhook POSTs ${posts} for ${events.size} events`);
console.log(`redelivered (more than one attempt): ${redelivered}`);
console.log(`ledger: jobs ${usage.totals.jobs} (records ${statuses.get('succeeded') ?? 0}), compute ${Math.round(usage.totals.gpu_seconds * 1e6)} µs vs records ${recordMicros} µs`);
for (const [label, pts] of rss) if (pts.length >= 3) console.log(`RSS ${label}: ${pts[pts.length - 1][1].toFixed(0)} MB at end, slope after warm-up ${slope(pts).toFixed(1)} MB over the run`);
console.log(`redis: ${keysTotal} keys, without TTL by prefix ${JSON.stringify(Object.fromEntries(noTtl))}, ${(mem / Math.max(1, ids.length)).toFixed(0)} bytes per job (used_memory ${(mem / 2 ** 20).toFixed(1)} MiB; ${((mem - baseline) / Math.max(1, ids.length)).toFixed(0)} above the empty stack's ${(baseline / 2 ** 20).toFixed(1)} MiB)`);
const per = (b, n = ids.length) => (b / Math.max(1, n)).toFixed(0);
console.log(`redis bytes per job (MEMORY USAGE): record ${per(recordB, sampled.length)}, asset records ${per(assetB, sampled.length)}, retention sets ${per(retentionB)}, team index ${per(indexB)}, output cache ${per(cacheB)}, BullMQ ${per(bullB)}`);
console.log(`redeliveries ${counter('clickvid_redeliveries_total')}, false stalls ${counter('clickvid_false_stalls_total')} (worker deaths = the difference)`);

await Promise.all([server, ...workers].map((s) => stopProcess(s.proc)));
await redis.stop();
hooks.close();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
