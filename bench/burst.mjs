// Burst throughput: 120 drafts submitted at once, all must succeed. Batched (the
// default knobs) against max batch 1, side by side in one run on one private stack,
// with the mean batch size read from /metrics, and the CPU milliseconds each process
// (server, worker, the worker's ffmpeg children, redis-server, this client) spent per video:
// the burst keeps the cores busy, so that is where the time goes.
//   node bench/burst.mjs [--n 120]
import { api, cpuSeconds, histogramMean, machine, startPrivateStack, waitDone } from './lib.mjs';

const i = process.argv.indexOf('--n');
const N = i > 0 ? Number(process.argv[i + 1]) : 120;
const prompts = ['two red circles moving right on a blue background', 'a yellow triangle spinning on a black background', 'three green squares bouncing on a white background', 'a cyan circle shrinking on a magenta background', 'one orange square moving up on a gray background'];

/** CPU seconds so far, per role. */
function cpu(stack) {
  const { server, redis, workers } = stack.pids();
  const w = workers.map(cpuSeconds);
  const client = process.cpuUsage();
  return {
    server: cpuSeconds(server).self,
    worker: w.reduce((n, c) => n + c.self, 0),
    ffmpeg: w.reduce((n, c) => n + c.children, 0),
    redis: cpuSeconds(redis).self,
    client: (client.user + client.system) / 1e6,
  };
}

async function burst(stack, seedBase) {
  const before = await histogramMean(stack, 'clickvid_batch_size', 'lane="draft"');
  const cpu0 = cpu(stack);
  const t0 = performance.now();
  const jobs = await Promise.all(Array.from({ length: N }, (_, k) => api(stack, 'POST', '/v1/generate', { prompt: prompts[k % prompts.length], seed: seedBase + k })));
  const done = await Promise.all(jobs.map((j) => waitDone(stack, j.id)));
  const secs = (performance.now() - t0) / 1000;
  const cpu1 = cpu(stack);
  const cpuMs = Object.fromEntries(Object.keys(cpu0).map((k) => [k, ((cpu1[k] - cpu0[k]) * 1000) / N]));
  const after = await histogramMean(stack, 'clickvid_batch_size', 'lane="draft"');
  const failed = done.filter((d) => d.status !== 'succeeded');
  const batches = after.count - before.count;
  return { cpuMs, secs, rate: N / secs, failed: failed.length, degraded: done.filter((d) => d.degraded).length, meanBatch: batches ? (after.sum - before.sum) / batches : NaN, maxLatency: Math.max(...done.map((d) => Date.parse(d.finished_at) - Date.parse(d.created_at))) };
}

// A private stack: the knob is a worker setting. Degradation is off so both runs render the same work.
const stack = await startPrivateStack({ env: { CLICKVID_DRAFT_WAIT_BUDGET_MS: '600000' } });
console.log(`burst of ${N} drafts; ${machine()}`);
try {
  const seed = Date.now() % 1_000_000_000;
  // Warm-up, so neither run pays first-use costs.
  await Promise.all(Array.from({ length: 8 }, (_, k) => api(stack, 'POST', '/v1/generate', { prompt: prompts[0], seed: seed + 10_000 + k }).then((j) => waitDone(stack, j.id))));
  const batched = await burst(stack, seed);
  await stack.restartWorkers({ CLICKVID_DRAFT_MAX_BATCH: '1' });
  await Promise.all(Array.from({ length: 4 }, (_, k) => api(stack, 'POST', '/v1/generate', { prompt: prompts[0], seed: seed + 20_000 + k }).then((j) => waitDone(stack, j.id))));
  const single = await burst(stack, seed + 50_000);
  const row = (name, r) => `${name.padEnd(14)} ${r.secs.toFixed(2).padStart(6)} s  ${r.rate.toFixed(1).padStart(6)} videos/s  mean batch ${r.meanBatch.toFixed(2)}  slowest ${(r.maxLatency / 1000).toFixed(2)} s  failed ${r.failed}`;
  console.log(row('batched', batched));
  console.log(row('max batch 1', single));
  const cpuRow = (name, r) => `${name.padEnd(14)} ${Object.entries(r.cpuMs).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(' · ')} · total ${Object.values(r.cpuMs).reduce((a, b) => a + b, 0).toFixed(1)}`;
  console.log('CPU ms per video:');
  console.log(cpuRow('batched', batched));
  console.log(cpuRow('max batch 1', single));
  console.log(`batched / unbatched throughput: ${(batched.rate / single.rate).toFixed(2)}×`);
  if (batched.failed || single.failed) process.exitCode = 1;
} finally {
  await stack.stop();
}
