// Submit throughput of POST /v1/generate, clickvid against a minimal FastAPI + Redis
// enqueue service (bench/fastapi_baseline.py), side by side in one run with autocannon.
//
// clickvid: a private stack with no worker (inference does not compete for CPU), rate
// limit off. FastAPI: /usr/bin/python3 -m uvicorn, single process (what the tutorials
// show) and --workers 2, access log off on both sides (clickvid logs no requests
// either). Each service has its own private redis-server. Every request has a distinct
// body (the seed and prompt vary), so nothing dedups; clickvid is measured without and
// with a unique Idempotency-Key per request. Same autocannon settings for all, run
// alternately, a warm-up before each measurement; figures are the median over rounds.
//   node bench/submit-throughput.mjs [--connections 32] [--duration 10] [--warmup 3] [--rounds 3]
// Needs the Debian packages python3-fastapi python3-uvicorn python3-redis.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { freePort, startRedis, stopProcess } from '../scripts/stack.mjs';
import { machine, ROOT, startPrivateStack } from './lib.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const CONNECTIONS = Number(arg('connections', 32));
const DURATION = Number(arg('duration', 10));
const WARMUP = Number(arg('warmup', 3));
const ROUNDS = Number(arg('rounds', 3));
const PY = '/usr/bin/python3';
const DEADLINE_MS = 290_000;

const probe = spawnSync(PY, ['-c', 'import fastapi, uvicorn, pydantic, redis.asyncio; print(fastapi.__version__, uvicorn.__version__, pydantic.VERSION)'], { encoding: 'utf8' });
if (probe.status !== 0) {
  console.error('submit-throughput: the FastAPI baseline needs the Debian packages python3-fastapi python3-uvicorn python3-redis for /usr/bin/python3.');
  console.error('  install them with: apt-get install -y python3-fastapi python3-uvicorn python3-redis');
  console.error(`  (${PY}: ${(probe.stderr || probe.error?.message || '').trim().split('\n').pop()})`);
  process.exit(2);
}
const [fastapiV, uvicornV, pydanticV] = probe.stdout.trim().split(' ');
const speedups = ['uvloop', 'httptools'].filter((m) => spawnSync(PY, ['-c', `import ${m}`]).status === 0);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitUp(url, proc) {
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null) throw new Error(`${url}: the process exited with code ${proc.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch { /* not yet */ }
    await sleep(100);
  }
  throw new Error(`${url} did not come up in 20 s`);
}

async function startFastapi(redisUrl, apiKey, workers) {
  const port = await freePort();
  const args = ['-m', 'uvicorn', 'fastapi_baseline:app', '--app-dir', path.join(ROOT, 'bench'), '--host', '127.0.0.1', '--port', String(port), '--no-access-log', '--log-level', 'warning'];
  if (workers > 1) args.push('--workers', String(workers));
  let stderr = '';
  const proc = spawn(PY, args, { env: { ...process.env, BASELINE_REDIS_URL: redisUrl, BASELINE_API_KEY: apiKey, PYTHONDONTWRITEBYTECODE: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  proc.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUp(`${url}/healthz`, proc);
  } catch (err) {
    throw new Error(`${err.message}\n${stderr}`);
  }
  return { url, apiKey, proc, stop: () => stopProcess(proc, 'SIGTERM', 5000) };
}

const PROMPTS = ['two red circles moving right on a blue background', 'a yellow triangle spinning on a black background', 'three green squares bouncing on a white background', 'a cyan circle shrinking on a magenta background', 'one orange square moving up on a gray background'];
let seq = 0;
const nonce = randomBytes(4).toString('hex');

function cannon(target, { seconds, idempotency = false }) {
  return new Promise((resolve, reject) => {
    autocannon({
      url: target.url,
      connections: CONNECTIONS,
      duration: seconds,
      requests: [{
        method: 'POST',
        path: '/v1/generate',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${target.apiKey}` },
        setupRequest: (req) => {
          const n = seq++;
          req.body = JSON.stringify({ prompt: PROMPTS[n % PROMPTS.length], quality: 'draft', seed: n });
          if (idempotency) req.headers = { ...req.headers, 'idempotency-key': `bench-${nonce}-${n}` };
          return req;
        },
      }],
    }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

async function measure(target, opts) {
  await cannon(target, { ...opts, seconds: WARMUP });
  const r = await cannon(target, { ...opts, seconds: DURATION });
  const bad = r.non2xx + r.errors + r.timeouts;
  return { rps: r.requests.average, total: r.requests.total, p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max, bad, non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts };
}

/** One request each, checked by hand: both answer 202 with a queued job. */
async function smoke(target, extra = {}) {
  const res = await fetch(`${target.url}/v1/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${target.apiKey}`, ...extra },
    body: JSON.stringify({ prompt: PROMPTS[0], quality: 'draft', seed: 4_000_000_000 }),
  });
  const body = await res.json();
  if (res.status !== 202 || body.status !== 'queued' || !body.id) throw new Error(`${target.name}: smoke request → ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  const bad = await fetch(`${target.url}/v1/generate`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer nope-nope-nope-nope' }, body: '{"prompt":"x"}' });
  if (bad.status !== 401) throw new Error(`${target.name}: a wrong key answered ${bad.status}, not 401`);
}

const started = [];
const dir = mkdtempSync(path.join(os.tmpdir(), 'cv-bench-fastapi-'));
const stopAll = async () => {
  await Promise.allSettled(started.reverse().map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
};
const watchdog = setTimeout(async () => {
  console.error(`submit-throughput: did not finish within ${DEADLINE_MS / 1000} s`);
  await stopAll();
  process.exit(1);
}, DEADLINE_MS);

try {
  const clickvid = { name: 'clickvid', ...(await startPrivateStack({ workers: 0 })) };
  started.push(clickvid);
  const redis = await startRedis({ dir: path.join(dir, 'redis') });
  started.push(redis);
  const apiKey = `fa_bench_${randomBytes(16).toString('base64url')}`;
  const fa1 = { name: 'fastapi-1', ...(await startFastapi(redis.url, apiKey, 1)) };
  started.push(fa1);
  const fa2 = { name: 'fastapi-2', ...(await startFastapi(redis.url, apiKey, 2)) };
  started.push(fa2);
  await smoke(clickvid);
  await smoke(clickvid, { 'idempotency-key': `smoke-${nonce}` });
  await smoke(fa1);
  await smoke(fa2);

  console.log(`submit throughput, POST /v1/generate; ${machine()}; load generator (autocannon, in this process) on the same cores`);
  console.log(`load average before: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (the box is shared: anything above ~0.5 is someone else's work)`);
  console.log(`autocannon: ${CONNECTIONS} connections, ${DURATION} s measured after a ${WARMUP} s warm-up, ${ROUNDS} rounds alternating, distinct bodies (seed varies)`);
  console.log(`clickvid: packages/server/dist/main.js on a private stack, no worker, rate limit 1e6/min, its own redis-server`);
  console.log(`FastAPI ${fastapiV} / uvicorn ${uvicornV} / pydantic ${pydanticV} (Debian python3-fastapi python3-uvicorn python3-redis), ${PY} -m uvicorn --no-access-log (TCP_NODELAY forced on accepted sockets, see fastapi_baseline.py), ${speedups.length ? `with ${speedups.join(' + ')}` : 'plain asyncio + h11 (no uvloop/httptools installed)'}, its own redis-server`);

  const variants = [
    { key: 'clickvid', label: 'clickvid', target: clickvid },
    { key: 'fa1', label: 'FastAPI 1 process', target: fa1 },
    { key: 'idem', label: 'clickvid + Idempotency-Key', target: clickvid, opts: { idempotency: true } },
    { key: 'fa2', label: 'FastAPI --workers 2', target: fa2 },
  ];
  const runs = Object.fromEntries(variants.map((v) => [v.key, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const v of variants) {
      const r = await measure(v.target, v.opts ?? {});
      runs[v.key].push(r);
      console.log(`  round ${round} ${v.label.padEnd(28)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${String(r.p50).padStart(3)} ms  p99 ${String(r.p99).padStart(3)} ms  max ${String(r.max).padStart(4)} ms  ${r.total} requests${r.bad ? `  NON-2XX ${r.non2xx} ERRORS ${r.errors} TIMEOUTS ${r.timeouts}` : ''}`);
    }
  }
  const med = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = Math.floor(s.length / 2); return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
  const summary = Object.fromEntries(variants.map((v) => [v.key, { rps: med(runs[v.key].map((r) => r.rps)), p50: med(runs[v.key].map((r) => r.p50)), p99: med(runs[v.key].map((r) => r.p99)) }]));
  console.log(`\nmedian over ${ROUNDS} rounds:`);
  console.log('  service                          req/s   p50 ms   p99 ms');
  for (const v of variants) {
    const s = summary[v.key];
    console.log(`  ${v.label.padEnd(30)} ${s.rps.toFixed(0).padStart(7)}  ${s.p50.toFixed(1).padStart(7)}  ${s.p99.toFixed(1).padStart(7)}`);
  }
  const c = summary.clickvid;
  // The machine is shared and noisy: ratios within a round (runs ~13 s apart) are the figure to trust.
  const paired = (a, b) => runs[a].map((r, i) => r.rps / runs[b][i].rps);
  const fmt = (xs) => `${med(xs).toFixed(2)}× (rounds: ${xs.map((x) => x.toFixed(2)).join(', ')})`;
  console.log(`\nclickvid / FastAPI 1 process, req/s, median of per-round ratios: ${fmt(paired('clickvid', 'fa1'))}`);
  console.log(`clickvid / FastAPI --workers 2:                                ${fmt(paired('clickvid', 'fa2'))}`);
  console.log(`clickvid with / without Idempotency-Key:                       ${fmt(paired('idem', 'clickvid'))}`);
  console.log(`load average after: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const met = med(paired('clickvid', 'fa1')) >= 3 && c.p99 <= 20;
  console.log(`target (clickvid ≥ 3× FastAPI 1-process req/s with p99 ≤ 20 ms): ${met ? 'met' : 'NOT met'}`);
  const bad = Object.values(runs).flat().reduce((a, r) => a + r.bad, 0);
  if (bad) {
    console.error(`FAILED: ${bad} requests were not 2xx or errored`);
    process.exitCode = 1;
  }
} catch (err) {
  console.error('submit-throughput failed:', err);
  process.exitCode = 1;
} finally {
  clearTimeout(watchdog);
  await stopAll();
}
