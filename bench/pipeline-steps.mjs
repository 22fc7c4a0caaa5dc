#!/usr/bin/env node
// Cost of each uninterruptible unit of a pipeline model, per tier: a text encode, ONE denoiser
// step for 1 and for 8 jobs (guided tiers: each job brings its unconditional row), a whole
// decode and a one-latent-frame decode chunk. Min and median wall ms over --reps, and CPU ms
// per call (both intra-op threads together: on an idle machine wall ≈ CPU / 2 at best).
// Batch sizes are measured interleaved, so their ratio holds even when the machine is shared.
//
//
// Then a burst through the worker's engine (ScheduledEngine: its thread and step scheduler, as the
// worker runs it): --burst jobs of one tier submitted at once, with distinct prompts, at max batch 8
// and at max batch 1 (interleaved, --burst-reps times each). Prints the mean rows per denoiser call
// (jobs per call; a guided tier's call carries two rows per job) and videos/s, with rows capped by
// the unit budget as in production (30 ms) and by max batch alone.
//
//   npm run build && node bench/pipeline-steps.mjs [--model pipeline-fixture] [--reps 15] [--threads 2]
//                                                  [--part units|burst|all] [--burst 16] [--burst-reps 2]
import { join } from 'node:path';
import { loadPipeline, REPO_ROOT } from '@clickvid/core';
import { PipelineRunner, ScheduledEngine } from '@clickvid/worker';
import { machine } from './lib.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const reps = Number(arg('reps', 15));
const part = arg('part', 'all');
const model = arg('model', 'pipeline-fixture');
const threads = Number(arg('threads', 2));
const runner = await PipelineRunner.load(loadPipeline(join(REPO_ROOT, 'models'), model), { intraOpNumThreads: threads });
console.log(`${runner.pipeline.id} ${runner.pipeline.version}; ${machine()}; load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`);

/** Runs the named calls round-robin `reps` times (after one warm-up each); min/median wall and mean CPU ms. */
async function measure(calls) {
  const wall = new Map(Object.keys(calls).map((k) => [k, []]));
  const cpu = new Map(Object.keys(calls).map((k) => [k, 0]));
  for (const f of Object.values(calls)) await f();
  for (let r = 0; r < reps; r++) {
    for (const [k, f] of Object.entries(calls)) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await f();
      wall.get(k).push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.set(k, cpu.get(k) + (c.user + c.system) / 1000);
    }
  }
  const out = {};
  for (const [k, w] of wall) {
    w.sort((a, b) => a - b);
    out[k] = { min: w[0], median: w[w.length >> 1], cpu: cpu.get(k) / reps };
  }
  return out;
}

if (part !== 'burst') await units();
await runner.close();
if (part !== 'units') await bursts();

async function units() {
const fmt = (m) => `${m.min.toFixed(1).padStart(6)} ${m.median.toFixed(1).padStart(7)} ${m.cpu.toFixed(1).padStart(7)}`;
console.log(`${'tier'.padEnd(9)} ${'unit'.padEnd(28)}    min  median  cpu ms`);
for (const quality of ['draft', 'standard', 'final']) {
  const tier = runner.pipeline.tiers[quality];
  const clip = runner.clip(quality);
  const [embedding] = await runner.encode(['a red circle moving left']);
  const row = (seed) => ({ latents: runner.initialLatents(seed, clip), embedding, state: runner.schedule(clip, tier.steps), guidanceScale: tier.guidanceScale });
  const rows = (n) => Array.from({ length: n }, (_, i) => row(i));
  // A state that never finishes: the same step, measured again and again.
  const step = (rs) => () => {
    for (const r of rs) r.state.index = 0;
    return runner.step(tier.variants.denoiser, clip, rs);
  };
  const latents = (n) => rows(n).map((r) => ({ latents: r.latents }));
  const one = rows(1);
  const eight = rows(8);
  const d1 = latents(1);
  const d8 = latents(8);
  const m = await measure({
    encode: () => runner.encode(['a red circle moving left']),
    [`step, 1 job`]: step(one),
    [`step, 8 jobs`]: step(eight),
    [`decode whole, 1 job`]: () => runner.decode(tier.variants.decoder, clip, d1),
    [`decode whole, 8 jobs`]: () => runner.decode(tier.variants.decoder, clip, d8),
    [`decode 1 latent frame, 1 job`]: () => runner.decode(tier.variants.decoder, clip, d1, 0, 1),
  });
  const guided = tier.guidanceScale !== 1 ? ' (2 rows each)' : '';
  for (const [k, v] of Object.entries(m)) console.log(`${quality.padEnd(9)} ${(k.startsWith('step') ? k + guided : k).padEnd(28)} ${fmt(v)}`);
  console.log(`${quality.padEnd(9)} latent [${clip.latent.join(', ')}], ${tier.steps} steps; step ms per job at 8 ÷ at 1 (median): ${(m['step, 8 jobs'].median / 8 / m['step, 1 job'].median).toFixed(2)}`);
}
}

/** One burst of `n` jobs of a tier through a fresh engine; its step calls' rows and its wall time. */
async function burst(quality, maxBatch, rowsByCost, n, salt) {
  const reports = [];
  const lane = quality === 'draft' ? 'draft' : 'final';
  const engine = new ScheduledEngine({
    resolveVariant: () => undefined, intraOpNumThreads: threads, rowsByCost, maxRows: { draft: maxBatch, final: maxBatch }, onUnit: (u) => reports.push(u),
  });
  const words = ['red', 'green', 'blue', 'yellow', 'white', 'black'];
  const shapes = ['circle', 'square', 'triangle'];
  const motions = ['moving left', 'moving right', 'moving up', 'moving down', 'spinning', 'bouncing'];
  const job = (i) => ({ lane, modelsDir: join(REPO_ROOT, 'models'), model, quality, seed: salt * 1000 + i, prompt: `a ${words[i % 6]} ${shapes[(i >> 1) % 3]} ${motions[(i + salt) % 6]}` });
  // Warm: sessions loaded, the unconditional prompt encoded; not timed.
  await engine.renderPipeline(job(n));
  reports.length = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => engine.renderPipeline(job(i))));
  const seconds = (performance.now() - t0) / 1000;
  await engine.close();
  const steps = reports.filter((u) => u.key.includes('|step|'));
  return { seconds, rows: steps.reduce((a, u) => a + u.rows, 0) / steps.length, calls: steps.length };
}

async function bursts() {
  const n = Number(arg('burst', 16));
  const burstReps = Number(arg('burst-reps', 2));
  console.log(`\nburst of ${n} jobs per tier through ScheduledEngine (engine thread + step scheduler), ${burstReps} runs each, interleaved; load ${(await import('node:os')).loadavg()[0].toFixed(1)}`);
  console.log(`${'tier'.padEnd(9)} ${'rows capped by'.padEnd(16)} ${'max batch'.padStart(9)} ${'jobs/call'.padStart(10)} ${'calls'.padStart(6)} ${'videos/s'.padStart(9)}`);
  for (const quality of ['draft', 'final']) {
    for (const rowsByCost of [true, false]) {
      const acc = new Map([[8, []], [1, []]]);
      for (let r = 0; r < burstReps; r++) for (const b of [8, 1]) acc.get(b).push(await burst(quality, b, rowsByCost, n, r + 1));
      const line = {};
      for (const [b, runs] of acc) {
        const seconds = runs.reduce((a, x) => a + x.seconds, 0);
        const rows = runs.reduce((a, x) => a + x.rows, 0) / runs.length;
        const calls = runs.reduce((a, x) => a + x.calls, 0) / runs.length;
        line[b] = (n * runs.length) / seconds;
        console.log(`${quality.padEnd(9)} ${(rowsByCost ? 'unit 30 ms' : 'max batch only').padEnd(16)} ${String(b).padStart(9)} ${rows.toFixed(2).padStart(10)} ${calls.toFixed(0).padStart(6)} ${line[b].toFixed(1).padStart(9)}`);
      }
      console.log(`${quality.padEnd(9)} ${(rowsByCost ? 'unit 30 ms' : 'max batch only').padEnd(16)} videos/s at max batch 8 ÷ at 1: ${(line[8] / line[1]).toFixed(2)}`);
    }
  }
}
