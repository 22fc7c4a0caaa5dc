// Idle latency per tier: one job at a time, client submit → `succeeded` seen by the
// client (over SSE), with where the time went. Uses the stack `npm start` runs if it
// is up, else starts a private one. Unique seeds: no output-cache hits.
//   node bench/idle-latency.mjs [--n 40] [--tiers draft,standard,final]
import { api, machine, mean, ms, pct, runningStack, startPrivateStack, waitDone } from './lib.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const N = Number(arg('n', 40));
const tiers = arg('tiers', 'draft,standard,final').split(',');
const stack = (await runningStack()) ?? (await startPrivateStack());
console.log(`idle latency against ${stack.url} (${stack.private ? 'private stack' : 'running npm start stack'}); ${machine()}`);

const prompts = ['two red circles moving right on a blue background', 'a yellow triangle spinning on a black background', 'three green squares bouncing on a white background', 'a purple circle growing on an orange background'];
const seedBase = Date.now() % 1_000_000_000;
try {
  for (const quality of tiers) {
    const n = quality === 'draft' ? N : Math.max(5, Math.round(N / 4));
    // Two warm-up jobs: first-use costs (session creation, encoder pool) are not idle latency.
    for (let i = 0; i < 2; i++) await waitDone(stack, (await api(stack, 'POST', '/v1/generate', { prompt: prompts[i], quality, seed: seedBase + 900 + i })).id);
    const rows = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const job = await api(stack, 'POST', '/v1/generate', { prompt: prompts[i % prompts.length], quality, seed: seedBase + i });
      const tSubmit = performance.now() - t0;
      const done = await waitDone(stack, job.id);
      const total = performance.now() - t0;
      if (done.status !== 'succeeded') throw new Error(`job ${job.id} ${done.status}: ${JSON.stringify(done.error)}`);
      const created = Date.parse(done.created_at), started = Date.parse(done.started_at), finished = Date.parse(done.finished_at);
      const inf = done.usage.breakdown.inference_s * 1000, enc = done.usage.breakdown.encode_s * 1000;
      rows.push({ total, submit: tSubmit, queue: started - created, inference: inf, encode: enc, other: Math.max(0, finished - started - inf - enc), notify: Math.max(0, total - (finished - created) - tSubmit / 2) });
    }
    const col = (k) => rows.map((r) => r[k]);
    console.log(`\n${quality}: n=${n}, ${rows.length ? '' : ''}p50 ${ms(pct(col('total'), 50))}, p90 ${ms(pct(col('total'), 90))}, p99 ${ms(pct(col('total'), 99))}, mean ${ms(mean(col('total')))}`);
    console.log(`  breakdown (mean): submit ${ms(mean(col('submit')))} · queue ${ms(mean(col('queue')))} · inference ${ms(mean(col('inference')))} · encode ${ms(mean(col('encode')))} · storage+redis ${ms(mean(col('other')))} · notify ${ms(mean(col('notify')))}`);
  }
} finally {
  await stack.stop();
}
