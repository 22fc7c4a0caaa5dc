// Drafts while finals render (issue #9), from outside over plain HTTP, every job followed over SSE.
// Per run, side by side on one stack:
//   1. idle drafts, one after another (prompts and seeds vary: no warm embedding or cache hit for all);
//   2. 12 finals submitted at once, alone: their makespan (first submit → last `succeeded`);
//   3. 12 finals at once again, and drafts one after another from the same moment until the last
//      final has finished and at least --min-drafts drafts were made: draft p50/p99 (of the drafts
//      submitted before the last final finished) and their ratio to phase 1's p99, the finals'
//      makespan and its ratio to phase 2's.
// Every job must succeed. Uses the stack `npm start` runs if it is up, else starts a private one.
// Prints the load average before and after each run: the box is shared.
//   node bench/drafts-under-finals.mjs [--runs 3] [--idle 40] [--finals 12] [--min-drafts 100] [--json out.json]
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { api, machine, mean, pct, runningStack, startPrivateStack, waitDone } from './lib.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const RUNS = Number(arg('runs', 1));
const IDLE = Number(arg('idle', 40));
const FINALS = Number(arg('finals', 12));
const MIN_DRAFTS = Number(arg('min-drafts', 100));
const jsonOut = arg('json', null);

const stack = (await runningStack()) ?? (await startPrivateStack());
console.log(`drafts under finals against ${stack.url} (${stack.private ? 'private stack' : 'running npm start stack'}); ${machine()}`);

const counts = ['a', 'two', 'three'];
const colors = ['red', 'orange', 'yellow', 'green', 'cyan', 'blue', 'purple', 'magenta', 'white', 'gray'];
const shapes = ['circle', 'square', 'triangle'];
const motions = ['moving left', 'moving right', 'moving up', 'moving down', 'bouncing', 'growing', 'shrinking', 'spinning'];
const backs = ['black', 'white', 'blue', 'gray', 'orange'];
let promptIndex = Math.floor(Math.random() * 10_000);
/** A different prompt each call (walks the grammar), so no prompt is warm for all. */
function nextPrompt() {
  const i = promptIndex++;
  const n = counts[i % 3];
  return `${n} ${colors[(i >> 2) % colors.length]} ${shapes[(i >> 1) % 3]}${n === 'a' ? '' : 's'} ${motions[(i * 7) % motions.length]} on a ${backs[(i * 3) % backs.length]} background`;
}
let seed = Math.floor(Math.random() * 1e9); // unique renders: no output-cache hits

async function render(quality) {
  const t0 = performance.now();
  const job = await api(stack, 'POST', '/v1/generate', { prompt: nextPrompt(), quality, seed: seed++ });
  const done = await waitDone(stack, job.id);
  if (done.status !== 'succeeded') throw new Error(`${quality} ${job.id} ${done.status}: ${JSON.stringify(done.error)}`);
  const b = done.usage.breakdown;
  return { ms: performance.now() - t0, end: performance.now(), inference: b.inference_s * 1000, encode: b.encode_s * 1000, queue: Date.parse(done.started_at) - Date.parse(done.created_at) };
}

/** Where the time of a set of jobs went (means, ms): queue (created → started), metered inference and encode. */
const breakdown = (rs) => `queue ${f1(mean(rs.map((r) => r.queue)))} · inference ${f1(mean(rs.map((r) => r.inference)))} · encode ${f1(mean(rs.map((r) => r.encode)))} ms`;

async function finalsAtOnce() {
  const t0 = performance.now();
  const ends = await Promise.all(Array.from({ length: FINALS }, () => render('final')));
  return { makespan: Math.max(...ends.map((e) => e.end)) - t0, jobs: ends };
}

const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const f1 = (x) => x.toFixed(1);
const results = [];
try {
  // Warm-up: first-use costs (sessions, encoder pools) are not what this measures.
  for (const q of ['draft', 'draft', 'final']) await render(q);
  for (let run = 1; run <= RUNS; run++) {
    const loadBefore = load();
    const idleJobs = [];
    for (let i = 0; i < IDLE; i++) idleJobs.push(await render('draft'));
    const idle = idleJobs.map((r) => r.ms);

    const alone = await finalsAtOnce();

    let finalsDone = false;
    const finals = finalsAtOnce().finally(() => (finalsDone = true));
    const drafts = []; // { ms, during }
    while (!finalsDone || drafts.length < MIN_DRAFTS) {
      const during = !finalsDone;
      const r = await render('draft');
      drafts.push({ ...r, during });
    }
    const under = await finals;
    const duringJobs = drafts.filter((d) => d.during);
    const during = duringJobs.map((d) => d.ms);
    const row = {
      run,
      load_before: loadBefore,
      load_after: load(),
      idle_p50: pct(idle, 50),
      idle_p99: pct(idle, 99),
      drafts_total: drafts.length,
      drafts_during: during.length,
      under_p50: pct(during, 50),
      under_p99: pct(during, 99),
      under_max: Math.max(...during),
      ratio_p99: pct(during, 99) / pct(idle, 99),
      finals_alone_s: alone.makespan / 1000,
      finals_under_s: under.makespan / 1000,
      makespan_ratio: under.makespan / alone.makespan,
    };
    results.push(row);
    console.log(
      `\nrun ${run}: load ${row.load_before} → ${row.load_after}\n` +
        `  idle drafts (n=${IDLE}): p50 ${f1(row.idle_p50)} ms, p99 ${f1(row.idle_p99)} ms\n` +
        `  drafts under ${FINALS} finals (n=${row.drafts_during} of ${row.drafts_total}): p50 ${f1(row.under_p50)} ms, p99 ${f1(row.under_p99)} ms, max ${f1(row.under_max)} ms` +
        ` = ${row.ratio_p99.toFixed(2)}× idle p99\n` +
        `  ${FINALS} finals: alone ${row.finals_alone_s.toFixed(2)} s, under the draft stream ${row.finals_under_s.toFixed(2)} s = ${row.makespan_ratio.toFixed(2)}×\n` +
        `  every job succeeded\n` +
        `  where the time went (means): idle drafts ${breakdown(idleJobs)}; drafts under finals ${breakdown(duringJobs)};\n` +
        `    finals alone ${breakdown(alone.jobs)}; finals under drafts ${breakdown(under.jobs)}`,
    );
  }
  if (RUNS > 1) {
    console.log('\nrun | idle p50 | idle p99 | under p50 | under p99 | ×idle p99 | finals alone | under | ×');
    for (const r of results) {
      console.log(
        `${r.run} | ${f1(r.idle_p50)} | ${f1(r.idle_p99)} | ${f1(r.under_p50)} | ${f1(r.under_p99)} | ${r.ratio_p99.toFixed(2)} | ${r.finals_alone_s.toFixed(2)} s | ${r.finals_under_s.toFixed(2)} s | ${r.makespan_ratio.toFixed(2)}`,
      );
    }
  }
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ machine: machine(), results }, null, 2));
} finally {
  await stack.stop();
}
