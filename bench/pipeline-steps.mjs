#!/usr/bin/env node
// Cost of each uninterruptible unit of a pipeline model, per tier: a text encode, ONE denoiser
// step for 1 and for 8 jobs (guided tiers: each job brings its unconditional row), a whole
// decode and a one-latent-frame decode chunk. Min and median wall ms over --reps, and CPU ms
// per call (both intra-op threads together: on an idle machine wall ≈ CPU / 2 at best).
// Batch sizes are measured interleaved, so their ratio holds even when the machine is shared.
//
//   npm run build && node bench/pipeline-steps.mjs [--model pipeline-fixture] [--reps 15] [--threads 2]
import { join } from 'node:path';
import { loadPipeline, REPO_ROOT } from '@clickvid/core';
import { PipelineRunner } from '@clickvid/worker';
import { machine } from './lib.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const reps = Number(arg('reps', 15));
const runner = await PipelineRunner.load(loadPipeline(join(REPO_ROOT, 'models'), arg('model', 'pipeline-fixture')), {
  intraOpNumThreads: Number(arg('threads', 2)),
});
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
await runner.close();
