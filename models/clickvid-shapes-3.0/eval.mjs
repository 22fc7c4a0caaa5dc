#!/usr/bin/env node
// clickvid-shapes 3.0.0 (pipeline form) evaluation, through the worker's own PipelineRunner:
// text encoder → flow-matching denoiser steps → renderer, per tier, on held-out compositions (or
// held-out paraphrases), analyzed by the classical-CV analyzer of ../clickvid-shapes/runtime.mjs,
// which never saw the model. Also: the same prompt and seed alone and batched give the same bytes;
// the denoiser's seed-variation output across seeds; ms per video by batch size (whole clips).
//
//   node models/clickvid-shapes-3.0/eval.mjs                         held-out accuracy + speed table
//   node models/clickvid-shapes-3.0/eval.mjs --split paraphrase
//   node models/clickvid-shapes-3.0/eval.mjs --subset 12 --json --min-accuracy 0.9   (smoke)
//   node models/clickvid-shapes-3.0/eval.mjs --write                 store accuracy / speed in manifest.json
// Flags: --subset N  --tiers draft,final  --split heldout|paraphrase  --per-count N  --speed / --no-speed
//        --min-accuracy X  --batch N  --threads N
// Needs the packages built (`npm run build`; `npm test` builds).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPipeline } from '../../packages/core/dist/index.js';
import { PipelineRunner } from '../../packages/worker/dist/index.js';
import { analyzeVideo, heldoutSet, paraphraseSet, parseEvalArgs, score } from '../clickvid-shapes/runtime.mjs';

const DIR = dirname(fileURLToPath(import.meta.url));
const ATTRS = ['count', 'color', 'shape', 'motion', 'background'];
/** Frames per decode call: a multiple of the worker's frame quantum, so bytes equal the worker's. */
const FRAMES_PER_CALL = 8;

function parseArgs(argv) {
  return parseEvalArgs(argv, { tiers: null }, { '--tiers': (a, next) => (a.tiers = next().split(',')) });
}

/**
 * The denoising loop for jobs of one tier as one batch, the way the worker's step scheduler runs
 * rows: one text-encoder call, every row in each denoiser call. → { latents: Float32Array[], clip }
 */
async function denoiseBatch(runner, quality, jobs) {
  const tier = runner.pipeline.tiers[quality];
  const clip = runner.clip(quality);
  const embeddings = await runner.encode(jobs.map((j) => j.prompt));
  let rows = jobs.map((j, i) => ({ latents: runner.initialLatents(j.seed, clip), embedding: embeddings[i], state: runner.schedule(clip, tier.steps), guidanceScale: tier.guidanceScale }));
  while (rows[0].state.index < rows[0].state.timesteps.length) {
    const next = await runner.step(tier.variants.denoiser, clip, rows);
    rows = rows.map((r, i) => ({ ...r, latents: next[i] }));
  }
  return { latents: rows.map((r) => r.latents), clip };
}

/** {@link denoiseBatch}, then decode calls of `framesPerCall` frames. → { videos: Uint8Array[], latents, clip } */
export async function renderBatch(runner, quality, jobs, framesPerCall = FRAMES_PER_CALL) {
  const { latents, clip } = await denoiseBatch(runner, quality, jobs);
  const decoder = runner.pipeline.tiers[quality].variants.decoder;
  const pieces = jobs.map(() => []);
  for (let f = 0; f < clip.decodeFrames; f += framesPerCall) {
    const out = await runner.decode(decoder, clip, latents.map((l) => ({ latents: l })), f, Math.min(f + framesPerCall, clip.decodeFrames));
    out.forEach((o, i) => pieces[i].push(o));
  }
  return { videos: pieces.map((p) => Buffer.concat(p)), latents, clip };
}

async function evalTier(runner, quality, items, args) {
  const sums = Object.fromEntries(ATTRS.map((k) => [k, 0]));
  let allOk = 0;
  const failures = [];
  let clip;
  for (let s = 0; s < items.length; s += args.batch) {
    const jobs = items.slice(s, s + args.batch);
    const r = await renderBatch(runner, quality, jobs);
    clip = r.clip;
    jobs.forEach((job, b) => {
      const got = analyzeVideo(r.videos[b], clip.frames, clip.height, clip.width, 0);
      const sc = score(job, got);
      let ok = 1;
      for (const k of ATTRS) { sums[k] += sc[k]; ok &= sc[k]; }
      allOk += ok;
      if (!ok) failures.push({ prompt: job.prompt, seed: job.seed, got: { count: got.count, color: got.color, shape: got.shape, motion: got.motion, background: got.background } });
    });
  }
  const n = items.length;
  const acc = Object.fromEntries(ATTRS.map((k) => [k, +(sums[k] / n).toFixed(4)]));
  acc.overall = +(ATTRS.reduce((t, k) => t + acc[k], 0) / ATTRS.length).toFixed(4);
  acc.all_correct = +(allOk / n).toFixed(4);
  acc.n = n;
  acc.frames = clip.frames;
  return { acc, failures };
}

/** Whole clips per call, as ms_per_video is defined (the worker's units scale it per frame). */
async function timeTier(runner, quality, batches, reps = 3) {
  const clip = runner.clip(quality);
  const out = {};
  for (const b of batches) {
    const jobs = Array.from({ length: b }, (_, i) => ({ prompt: 'two red squares moving left on a blue background', seed: 1000 + i }));
    await renderBatch(runner, quality, jobs, clip.decodeFrames);
    const ts = [];
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      await renderBatch(runner, quality, jobs, clip.decodeFrames);
      ts.push(performance.now() - t0);
    }
    ts.sort((x, y) => x - y);
    out[String(b)] = +(ts[ts.length >> 1] / b).toFixed(1);
  }
  return out;
}

/** What the denoiser makes of the seed: the 8 seed-variation channels of the final latents over 200 seeds. */
async function seedVariation(runner, quality) {
  const jobs = Array.from({ length: 200 }, (_, i) => ({ prompt: 'a red circle moving right on a black background', seed: 7000 + i }));
  const seedPart = [];
  let attributesMaxDiff = 0;
  const { latents } = await denoiseBatch(runner, quality, jobs);
  const first = latents[0].subarray(0, latents[0].length - 8);
  for (const l of latents) {
    const attrs = l.subarray(0, l.length - 8);
    for (let k = 0; k < attrs.length; k++) attributesMaxDiff = Math.max(attributesMaxDiff, Math.abs(attrs[k] - first[k]));
    seedPart.push(...l.subarray(l.length - 8));
  }
  const mean = seedPart.reduce((a, b) => a + b, 0) / seedPart.length;
  const std = Math.sqrt(seedPart.reduce((a, b) => a + (b - mean) ** 2, 0) / seedPart.length);
  return { seeds: jobs.length, mean: +mean.toFixed(4), std: +std.toFixed(4), uniform_std: +(1 / Math.sqrt(3)).toFixed(4), attributes_max_diff_across_seeds: attributesMaxDiff };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8'));
  const pipeline = loadPipeline(dirname(DIR), 'clickvid-shapes-3.0');
  const runner = await PipelineRunner.load(pipeline, { intraOpNumThreads: args.threads });
  const sets = { heldout: () => heldoutSet(manifest, args.perCount), paraphrase: () => paraphraseSet(join(dirname(DIR), 'clickvid-shapes-2.2')) };
  if (!Object.hasOwn(sets, args.split)) throw new Error(`unknown split ${args.split} (${Object.keys(sets).join(', ')})`);
  let items = sets[args.split]();
  if (args.subset) items = items.slice(0, args.subset);
  const tiers = args.tiers ?? ['draft', 'standard', 'final'];
  const results = {};
  const failures = {};
  const determinism = {};
  const variation = {};
  for (const q of tiers) {
    const variant = pipeline.tiers[q].variants.decoder;
    const r = await evalTier(runner, q, items, args);
    results[variant] = { tier: q, ...r.acc };
    failures[variant] = r.failures.slice(0, 10);
    // Same prompt and seed: alone, and second in a batch with another job.
    const alone = await renderBatch(runner, q, [items[0]]);
    const batched = await renderBatch(runner, q, [items[1] ?? items[0], items[0]]);
    determinism[variant] = Buffer.compare(alone.videos[0], batched.videos[1]) === 0;
    variation[q] = await seedVariation(runner, q);
  }
  let speed = null;
  if (args.speed) {
    speed = {};
    for (const q of tiers) speed[q] = await timeTier(runner, q, [1, 2, 4, 8].filter((b) => b <= pipeline.tiers[q].maxBatch));
  }
  await runner.close();
  const minOverall = Math.min(...Object.values(results).map((r) => r.overall));
  const pass = (args.minAccuracy === null || minOverall >= args.minAccuracy) && Object.values(determinism).every(Boolean);
  const report = { split: args.split, prompts: items.length, accuracy: results, determinism, seed_variation: variation, speed, failures, seconds: +((performance.now() - t0) / 1000).toFixed(1), pass };
  if (args.write) {
    const key = args.split === 'heldout' ? 'accuracy' : `accuracy_${args.split}`;
    manifest.eval[key] = { ...manifest.eval[key], ...Object.fromEntries(Object.entries(results).map(([v, { tier: _t, ...acc }]) => [v, acc])) };
    manifest.eval.seed_variation = variation;
    manifest.eval.measured_at = new Date().toISOString();
    manifest.eval.machine = '2-core x86_64 CPU, onnxruntime-node 1.30, 2 intra-op threads';
    if (speed) for (const [q, s] of Object.entries(speed)) manifest.tiers[q].ms_per_video = s;
    writeFileSync(join(DIR, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  }
  if (args.json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    console.log(`clickvid-shapes 3.0.0 (pipeline) eval: ${items.length} ${args.split} prompts`);
    console.log(['variant'.padEnd(10), 'tier'.padEnd(9), 'frames', ...ATTRS.map((a) => a.padStart(10)), 'overall'.padStart(8), 'all-ok'.padStart(7)].join(' '));
    for (const [v, r] of Object.entries(results)) {
      console.log([v.padEnd(10), r.tier.padEnd(9), String(r.frames).padStart(6), ...ATTRS.map((a) => (100 * r[a]).toFixed(1).padStart(10)), (100 * r.overall).toFixed(1).padStart(8), (100 * r.all_correct).toFixed(1).padStart(7)].join(' '));
    }
    console.log(`deterministic (alone = second in a batch of 2): ${JSON.stringify(determinism)}`);
    console.log(`seed variation (the denoiser's 8 seed channels over 200 seeds): ${JSON.stringify(variation)}`);
    if (speed) for (const [q, s] of Object.entries(speed)) console.log(`  ${q.padEnd(9)} ms per video: ` + Object.entries(s).map(([b, ms]) => `b${b}: ${ms}`).join('  '));
    for (const [v, f] of Object.entries(failures)) if (f.length) console.log(`\n${v} failures (first ${f.length}):\n` + f.map((x) => `  ${x.prompt} [seed ${x.seed}] -> ${JSON.stringify(x.got)}`).join('\n'));
    console.log(`\n${pass ? 'PASS' : 'FAIL'} (min overall ${(100 * minOverall).toFixed(1)}%${args.minAccuracy !== null ? `, required ${(100 * args.minAccuracy).toFixed(1)}%` : ''}) in ${report.seconds}s`);
  }
  process.exit(pass ? 0 : 1);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main().catch((e) => { console.error(e); process.exit(2); });
