// Compute per published video on a creator workload trace, clickvid against a naive
// service, side by side in one run on one private stack.
//
// The trace (deterministic PRNG), per published video = one creator session:
//   round 1  4 drafts (different prompts/seeds), submitted together
//   round 2  4 more drafts, ~15% of all drafts being exact repeats of an earlier draft
//            request of the same session (the output cache serves those at cost 0)
//   round 3  2 iterations: POST /v1/generate {from_job: <a draft>, prompt: <new prompt>}
//   round 4  promote the chosen iteration to final
// Sessions overlap like real users (staggered starts, think time between rounds), so
// batching applies. clickvid's cost = Σ usage.gpu_seconds over all the trace's jobs.
//
// The naive service renders EVERY request at final quality, unbatched and uncached:
// measured for real by replaying the same trace (same sessions, arrival times and think
// times, so the machine is as busy as for clickvid) on the same private stack with the
// workers restarted with CLICKVID_FINAL_MAX_BATCH=1, every request a final with a seed
// of its own (no cache). Metered seconds are wall seconds, so both sides must see the
// same contention for the ratio to mean anything.
//   node bench/creator-trace.mjs [--videos 5] [--seed 42] [--serial]
// --serial runs the sessions one after another (rounds still submit together): less CPU
// contention on a small machine, where metered seconds are wall seconds.
import { freePort } from '../scripts/stack.mjs';
import { api, machine, mean, pct, startPrivateStack, waitDone } from './lib.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const VIDEOS = Number(arg('videos', 5));
const SEED = Number(arg('seed', 42));
const DRAFTS = 8, ROUND1 = 4, ITERATIONS = 2, REPEAT_SHARE = 0.15;
const DEADLINE_MS = 280_000;

// mulberry32: small, deterministic, good enough for a trace.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(SEED);
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const COLORS = ['red', 'orange', 'yellow', 'green', 'cyan', 'blue', 'purple', 'magenta', 'white', 'gray', 'black'];
const SHAPES = ['circle', 'square', 'triangle'];
const MOTIONS = ['moving left', 'moving right', 'moving up', 'moving down', 'bouncing', 'growing', 'shrinking', 'spinning'];
function prompt() {
  const n = pick(['a', 'one', 'two', 'three']);
  const fg = pick(COLORS);
  let bg = pick(COLORS);
  while (bg === fg) bg = pick(COLORS);
  const plural = n === 'two' || n === 'three';
  return `${n} ${fg} ${pick(SHAPES)}${plural ? 's' : ''} ${pick(MOTIONS)} on a ${bg} background`;
}
const newSeed = () => Math.floor(rand() * 2 ** 31);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The trace, fixed up front. Exactly round(15%) of the drafts are repeats, all in round 2.
const totalRepeats = Math.round(VIDEOS * DRAFTS * REPEAT_SHARE);
const round2Slots = Array.from({ length: VIDEOS * (DRAFTS - ROUND1) }, (_, k) => k);
for (let k = round2Slots.length - 1; k > 0; k--) {
  const j = Math.floor(rand() * (k + 1));
  [round2Slots[k], round2Slots[j]] = [round2Slots[j], round2Slots[k]];
}
const repeatSlots = new Set(round2Slots.slice(0, totalRepeats));
const sessions = Array.from({ length: VIDEOS }, (_, v) => {
  const round1 = Array.from({ length: ROUND1 }, () => ({ prompt: prompt(), quality: 'draft', seed: newSeed() }));
  const round2 = Array.from({ length: DRAFTS - ROUND1 }, (_, k) =>
    repeatSlots.has(v * (DRAFTS - ROUND1) + k) ? { ...pick(round1), repeat: true } : { prompt: prompt(), quality: 'draft', seed: newSeed() });
  const drafts = [...round1, ...round2];
  // Iterate on two different non-repeat drafts, with a new prompt each.
  const bases = [];
  while (bases.length < ITERATIONS) {
    const k = Math.floor(rand() * drafts.length);
    if (!drafts[k].repeat && !bases.includes(k)) bases.push(k);
  }
  return {
    v,
    startDelayMs: Math.round(v * 1500 + rand() * 1000),
    thinkMs: [0, 1, 2].map(() => Math.round(300 + rand() * 1200)),
    round1,
    round2,
    iterations: bases.map((k) => ({ base: k, prompt: prompt() })),
    chosen: Math.floor(rand() * ITERATIONS),
  };
});
const REQUESTS_PER_VIDEO = DRAFTS + ITERATIONS + 1;

const submit = async (stack, body) => {
  const t0 = performance.now();
  const { repeat, ...req } = body;
  const job = await api(stack, 'POST', '/v1/generate', req);
  const done = job.status === 'succeeded' ? job : await waitDone(stack, job.id);
  return { job: done, ms: performance.now() - t0 };
};

async function runSession(stack, s) {
  const out = [];
  const add = (kind, r) => { out.push({ kind, ...r }); return r; };
  await sleep(s.startDelayMs);
  const t0 = performance.now();
  const r1 = await Promise.all(s.round1.map((b) => submit(stack, b).then((r) => add('draft', r))));
  await sleep(s.thinkMs[0]);
  const r2 = await Promise.all(s.round2.map((b) => submit(stack, b).then((r) => add(b.repeat ? 'repeat' : 'draft', r))));
  const drafts = [...r1, ...r2];
  await sleep(s.thinkMs[1]);
  const its = await Promise.all(s.iterations.map((it) =>
    submit(stack, { from_job: drafts[it.base].job.id, prompt: it.prompt }).then((r) => add('iterate', r))));
  await sleep(s.thinkMs[2]);
  const tp = performance.now();
  const promoted = await api(stack, 'POST', `/v1/jobs/${its[s.chosen].job.id}/promote`, { quality: 'final' });
  const fin = await waitDone(stack, promoted.id);
  add('final', { job: fin, ms: performance.now() - tp });
  return { jobs: out, wallS: (performance.now() - t0) / 1000 };
}

/**
 * The same session through the naive service: same timing, but every request (draft,
 * repeat, iteration, promotion) is a final render with a seed of its own.
 */
let naiveSeed = 3_000_000_000; // far from the trace's seeds (< 2^31): no cache hits
async function runNaiveSession(stack, s) {
  const out = [];
  const final = (prompt) => submit(stack, { prompt, quality: 'final', seed: naiveSeed++ }).then((r) => (out.push(r), r));
  await sleep(s.startDelayMs);
  const t0 = performance.now();
  await Promise.all(s.round1.map((b) => final(b.prompt)));
  await sleep(s.thinkMs[0]);
  await Promise.all(s.round2.map((b) => final(b.prompt)));
  await sleep(s.thinkMs[1]);
  await Promise.all(s.iterations.map((it) => final(it.prompt)));
  await sleep(s.thinkMs[2]);
  await final(s.iterations[s.chosen].prompt);
  return { jobs: out, wallS: (performance.now() - t0) / 1000 };
}

/** The worker's own encode histogram, per lane and warm/cold ffmpeg: {'draft warm=true': {sum, count}}. */
async function workerEncodes(port) {
  const out = {};
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const m of text.matchAll(/^clickvid_encode_seconds_(sum|count)\{lane="(\w+)",warm="(\w+)"\} (\S+)$/gm)) {
      const k = `${m[2]} warm=${m[3]}`;
      (out[k] ??= { sum: 0, count: 0 })[m[1]] = Number(m[4]);
    }
  } catch { /* no metrics: reported as n/a */ }
  return out;
}

const SERIAL = process.argv.includes('--serial');
const metricsPort = await freePort();
const stack = await startPrivateStack({ env: { CLICKVID_WORKER_METRICS_PORT: String(metricsPort) } });
const naiveEnv = { CLICKVID_FINAL_MAX_BATCH: '1' };
const watchdog = setTimeout(async () => {
  console.error(`creator-trace: did not finish within ${DEADLINE_MS / 1000} s`);
  await stack.stop().catch(() => {});
  process.exit(1);
}, DEADLINE_MS);
console.log(`creator trace: ${VIDEOS} published videos, PRNG seed ${SEED}; private stack ${stack.url}, 1 worker; ${machine()}`);
try {
  const tracePrompts = sessions.flatMap((s) => s.round1.map((b) => b.prompt));
  const warmSeed = 3_900_000_000;
  const replay = (fn) => (SERIAL ? sessions.reduce((p, s) => p.then(async (acc) => [...acc, await fn(stack, { ...s, startDelayMs: 0 })]), Promise.resolve([])) : Promise.all(sessions.map((s) => fn(stack, s))));

  // clickvid, default knobs.
  await Promise.all(['draft', 'draft', 'final'].map((quality, k) => submit(stack, { prompt: tracePrompts[k], quality, seed: warmSeed + k }))); // warm-up
  const encodes = () => workerEncodes(metricsPort);
  const encBefore = await encodes();
  const t0 = performance.now();
  const results = await replay(runSession);
  const traceWallS = (performance.now() - t0) / 1000;
  const encAfter = await encodes();

  // The naive service: the same trace, every request a final, unbatched, uncached.
  await stack.restartWorkers(naiveEnv);
  await submit(stack, { prompt: tracePrompts[0], quality: 'final', seed: warmSeed + 10 }); // warm-up
  const t1 = performance.now();
  const naiveRuns = await replay(runNaiveSession);
  const naiveWallS = (performance.now() - t1) / 1000;
  const naive = naiveRuns.flatMap((r) => r.jobs);

  // Checks: everything succeeded, repeats were cache hits, nothing else was, naive unbatched.
  const jobs = results.flatMap((r) => r.jobs);
  const failed = [...jobs, ...naive].filter((r) => r.job.status !== 'succeeded');
  const kinds = ['draft', 'repeat', 'iterate', 'final'];
  const by = Object.fromEntries(kinds.map((k) => [k, jobs.filter((r) => r.kind === k)]));
  const problems = [];
  if (failed.length) problems.push(`${failed.length} jobs did not succeed: ${failed.slice(0, 3).map((r) => `${r.job.id} ${r.job.status} ${JSON.stringify(r.job.error)}`).join('; ')}`);
  if (jobs.length !== VIDEOS * REQUESTS_PER_VIDEO) problems.push(`expected ${VIDEOS * REQUESTS_PER_VIDEO} trace jobs, got ${jobs.length}`);
  const missedRepeats = by.repeat.filter((r) => !r.job.cache_hit).length;
  if (missedRepeats) problems.push(`${missedRepeats} repeated requests were not output-cache hits`);
  const strayHits = jobs.filter((r) => r.kind !== 'repeat' && r.job.cache_hit).length + naive.filter((r) => r.job.cache_hit).length;
  if (strayHits) problems.push(`${strayHits} non-repeat jobs were cache hits (trace or naive sample)`);
  if (naive.some((r) => r.job.usage?.batch_size !== 1)) problems.push('a naive final ran in a batch > 1');
  if (by.final.some((r) => r.job.quality !== 'final') || by.iterate.some((r) => r.job.quality !== 'draft')) problems.push('unexpected tiers in the trace');

  const gpu = (rs) => rs.reduce((a, r) => a + (r.job.usage?.gpu_seconds ?? 0), 0);
  const batch = (rs) => { const b = rs.filter((r) => !r.job.cache_hit).map((r) => r.job.usage?.batch_size ?? 0); return b.length ? mean(b) : NaN; };
  const total = gpu(jobs);
  const perVideo = total / VIDEOS;
  const naiveMean = mean(naive.map((r) => r.job.usage.gpu_seconds));
  const naivePerVideo = gpu(naive) / VIDEOS;
  const f3 = (x) => x.toFixed(3);

  console.log(`\nrequests per published video: ${REQUESTS_PER_VIDEO} (${DRAFTS} drafts incl. ${(totalRepeats / VIDEOS).toFixed(1)} exact repeats, ${ITERATIONS} iterations, 1 final); ${jobs.length} trace jobs in all`);
  console.log(`\nclickvid (default knobs, ${SERIAL ? 'one session at a time (--serial)' : 'sessions overlapping'}; trace wall ${traceWallS.toFixed(1)} s):`);
  const part = (rs, k) => { const x = rs.filter((r) => !r.job.cache_hit); return x.length ? mean(x.map((r) => r.job.usage?.breakdown?.[k] ?? 0)) : 0; };
  console.log('  kind      jobs  gpu-s total  gpu-s/job (inference + encode)  gpu-s per video  mean batch  degraded');
  for (const k of kinds) {
    const rs = by[k];
    console.log(`  ${k.padEnd(8)} ${String(rs.length).padStart(5)}  ${f3(gpu(rs)).padStart(11)}  ${f3(rs.length ? gpu(rs) / rs.length : 0).padStart(9)} (${f3(part(rs, 'inference_s'))} + ${f3(part(rs, 'encode_s'))})  ${f3(gpu(rs) / VIDEOS).padStart(15)}  ${(k === 'repeat' ? '(cache)' : batch(rs).toFixed(2)).padStart(10)}  ${String(rs.filter((r) => r.job.degraded).length).padStart(8)}`);
  }
  console.log(`  all      ${String(jobs.length).padStart(5)}  ${f3(total).padStart(11)}  ${''.padStart(31)}  ${f3(perVideo).padStart(15)}`);
  const encRows = Object.keys(encAfter).sort().map((k) => {
    const n = encAfter[k].count - (encBefore[k]?.count ?? 0), sum = encAfter[k].sum - (encBefore[k]?.sum ?? 0);
    return `${k} ${n}× mean ${f3(n ? sum / n : 0)} s`;
  });
  console.log(`  encodes in the trace (worker's clickvid_encode_seconds): ${encRows.join('; ') || 'n/a'}`);
  const nm = naive.map((r) => r.job.usage.gpu_seconds);
  console.log(`\nnaive (the same trace, every request a final, max batch 1, no cache; trace wall ${naiveWallS.toFixed(1)} s): ${naive.length} finals`);
  console.log(`  gpu-s per final: mean ${f3(naiveMean)} (inference ${f3(part(naive, 'inference_s'))} + encode ${f3(part(naive, 'encode_s'))}), min ${f3(Math.min(...nm))}, max ${f3(Math.max(...nm))}`);
  console.log(`  gpu-s per published video: ${f3(naivePerVideo)}`);
  const clickFinal = by.final.length ? gpu(by.final) / by.final.length : NaN;
  console.log(`\nclickvid gpu-s per published video: ${f3(perVideo)}   naive: ${f3(naivePerVideo)}   ratio naive/clickvid: ${(naivePerVideo / perVideo).toFixed(2)}× (target ≥ 5×)`);
  console.log(`  for scale: clickvid's own finals cost ${f3(clickFinal)} gpu-s each (mean batch ${batch(by.final).toFixed(2)}) vs ${f3(naiveMean)} naive; drafts ${f3(gpu(by.draft) / by.draft.length)} gpu-s each`);
  const lat = (rs) => rs.map((r) => r.ms / 1000);
  const draftLat = lat([...by.draft, ...by.iterate]);
  console.log(`\nwall clock: time to see a preview, clickvid draft/iterate submit→done p50 ${pct(draftLat, 50).toFixed(2)} s, p90 ${pct(draftLat, 90).toFixed(2)} s (${SERIAL ? "one session at a time" : `under ${VIDEOS} overlapping sessions`})`);
  console.log(`  vs naive, same trace: submit→done p50 ${pct(lat(naive), 50).toFixed(2)} s, p90 ${pct(lat(naive), 90).toFixed(2)} s`);
  console.log(`  session (first request → final done): clickvid p50 ${pct(results.map((r) => r.wallS), 50).toFixed(1)} s, naive p50 ${pct(naiveRuns.map((r) => r.wallS), 50).toFixed(1)} s (both incl. ${(mean(sessions.map((s) => s.thinkMs.reduce((a, b) => a + b, 0))) / 1000).toFixed(1)} s think time)`);
  if (problems.length) {
    console.error(`\nFAILED:\n  ${problems.join('\n  ')}`);
    process.exitCode = 1;
  }
} catch (err) {
  console.error('creator-trace failed:', err);
  process.exitCode = 1;
} finally {
  clearTimeout(watchdog);
  await stack.stop();
}
