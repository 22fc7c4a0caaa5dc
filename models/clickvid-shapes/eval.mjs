#!/usr/bin/env node
// clickvid-shapes evaluation: runs every ONNX variant in manifest.json with onnxruntime-node
// on held-out compositions (never rendered during training), analyzes the frames with classical
// CV (runtime.mjs) and prints per-attribute accuracy per variant plus a ms/video speed table.
// --split paraphrase: free-text prompts whose synonyms and templates never appeared in a training
// caption (eval-paraphrase.json, written by train_text.py).
//
//   node models/clickvid-shapes/eval.mjs                       full held-out eval + speed table
//   node models/clickvid-shapes/eval.mjs --subset 12 --json --min-accuracy 0.9   (CI smoke, < 60 s)
//   node models/clickvid-shapes/eval.mjs --write               also store results in manifest.json
// Flags: --subset N  --variants a,b  --split heldout|seen|extended|paraphrase  --per-count N  --speed / --no-speed
//        --min-accuracy X (fraction, or percent if > 1; checked against every variant's overall)
//        --dump DIR (write raw RGB frames of the first videos)  --threads N  --dir MODEL_DIR
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  MODEL_DIR, loadManifest, loadOrt, createSession, generate, analyzeVideo, score,
  heldoutSet, seenSet, extendedSet, paraphraseSet, tierFrames, parseEvalArgs,
} from './runtime.mjs';

function parseArgs(argv) {
  return parseEvalArgs(argv, { variants: null, dump: null, dir: MODEL_DIR }, {
    '--variants': (a, next) => (a.variants = next().split(',')),
    '--dump': (a, next) => (a.dump = next()),
    '--dir': (a, next) => (a.dir = next()),
  });
}

// frames used when evaluating a variant: those of the first tier that serves it, else of a tier
// with the same resolution
export function framesForVariant(manifest, name) {
  const tiers = Object.values(manifest.tiers);
  const t = tiers.find((x) => x.variant === name) ||
    tiers.find((x) => manifest.variants[x.variant].width === manifest.variants[name].width) || tiers[0];
  return tierFrames(t);
}

const ATTRS = ['count', 'color', 'shape', 'motion', 'background'];

async function evalVariant(ort, manifest, name, items, args) {
  const session = await createSession(ort, manifest, name, { threads: args.threads, dir: args.dir });
  const frames = framesForVariant(manifest, name);
  const sums = Object.fromEntries(ATTRS.map((k) => [k, 0]));
  let allOk = 0;
  const failures = [];
  for (let s = 0; s < items.length; s += args.batch) {
    const jobs = items.slice(s, s + args.batch);
    const { video, dims } = await generate(ort, session, manifest, jobs, frames);
    const [, F, H, W] = dims;
    jobs.forEach((job, b) => {
      const got = analyzeVideo(video, F, H, W, b * F * H * W * 3);
      const sc = score(job, got);
      let ok = 1;
      for (const k of ATTRS) { sums[k] += sc[k]; ok &= sc[k]; }
      allOk += ok;
      if (!ok) failures.push({ prompt: job.prompt, seed: job.seed, got: { count: got.count, color: got.color, shape: got.shape, motion: got.motion, background: got.background } });
      if (args.dump && s + b < 8) {
        mkdirSync(args.dump, { recursive: true });
        const sz = F * H * W * 3;
        writeFileSync(join(args.dump, `${name}-${s + b}-${F}x${W}x${H}.rgb`), video.subarray(b * sz, (b + 1) * sz));
      }
    });
  }
  const n = items.length;
  const acc = Object.fromEntries(ATTRS.map((k) => [k, +(sums[k] / n).toFixed(4)]));
  acc.overall = +(ATTRS.reduce((s, k) => s + acc[k], 0) / ATTRS.length).toFixed(4);
  acc.all_correct = +(allOk / n).toFixed(4);
  acc.n = n;
  acc.frames = frames;
  await session.release?.();
  return { acc, failures };
}

export async function timeTier(ort, manifest, tierName, batches, { threads = 2, reps = 3, variant = null, dir = MODEL_DIR } = {}) {
  const tier = manifest.tiers[tierName];
  const name = variant || tier.variant;
  const session = await createSession(ort, manifest, name, { threads, dir });
  const frames = tierFrames(tier);
  const out = {};
  for (const b of batches) {
    const jobs = Array.from({ length: b }, (_, i) => ({ prompt: 'two red squares moving left on a blue background', seed: 1000 + i }));
    // Whole clips per call, as ms_per_video has always been measured (the worker's units scale it per frame).
    await generate(ort, session, manifest, jobs, frames, frames); // warm-up
    const ts = [];
    for (let r = 0; r < reps; r++) ts.push((await generate(ort, session, manifest, jobs, frames, frames)).ms);
    ts.sort((x, y) => x - y);
    out[String(b)] = +(ts[ts.length >> 1] / b).toFixed(1);
  }
  await session.release?.();
  return { variant: name, frames, ms_per_video: out };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const manifest = loadManifest(args.dir);
  const ort = loadOrt();
  const sets = {
    heldout: () => heldoutSet(manifest, args.perCount),
    seen: () => seenSet(manifest),
    extended: () => extendedSet(manifest),
    paraphrase: () => paraphraseSet(args.dir),
  };
  if (!Object.hasOwn(sets, args.split)) throw new Error(`unknown split ${args.split} (${Object.keys(sets).join(', ')})`);
  let items = sets[args.split]();
  if (args.subset) items = items.slice(0, args.subset);
  const variants = args.variants || Object.keys(manifest.variants);
  const results = {};
  const failures = {};
  for (const v of variants) {
    const r = await evalVariant(ort, manifest, v, items, args);
    results[v] = r.acc;
    failures[v] = r.failures.slice(0, 10);
  }
  // determinism: same prompt + seed + variant -> identical bytes (also across batch positions)
  const determinism = {};
  for (const v of variants) {
    const session = await createSession(ort, manifest, v, { threads: args.threads, dir: args.dir });
    const frames = framesForVariant(manifest, v);
    const job = items[0];
    const a1 = await generate(ort, session, manifest, [job], frames);
    const a2 = await generate(ort, session, manifest, [items[1] || job, job], frames);
    const n = a1.video.length;
    determinism[v] = Buffer.compare(Buffer.from(a1.video), Buffer.from(a2.video.subarray(n, 2 * n))) === 0;
    await session.release?.();
  }
  let speed = null;
  if (args.speed) {
    speed = {};
    for (const [tn, tier] of Object.entries(manifest.tiers)) {
      const batches = Object.keys(tier.ms_per_video).map(Number).filter((b) => b <= tier.max_batch);
      speed[tn] = await timeTier(ort, manifest, tn, batches, { threads: args.threads, dir: args.dir });
    }
  }
  const minOverall = Math.min(...Object.values(results).map((r) => r.overall));
  const pass = (args.minAccuracy === null || minOverall >= args.minAccuracy) && Object.values(determinism).every(Boolean);
  const report = { split: args.split, prompts: items.length, accuracy: results, determinism, speed, failures, seconds: +((performance.now() - t0) / 1000).toFixed(1), pass };
  if (args.write) {
    // held-out compositions are the headline figure; the other splits are stored beside it
    const key = args.split === 'heldout' ? 'accuracy' : `accuracy_${args.split}`;
    manifest.eval[key] = results;
    manifest.eval.measured_at = new Date().toISOString();
    if (speed) for (const [tn, s] of Object.entries(speed)) manifest.tiers[tn].ms_per_video = s.ms_per_video;
    writeFileSync(join(args.dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  }
  if (args.json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    console.log(`clickvid-shapes eval: ${items.length} ${args.split} prompts`);
    console.log(['variant'.padEnd(10), 'frames', ...ATTRS.map((a) => a.padStart(10)), 'overall'.padStart(8), 'all-ok'.padStart(7)].join(' '));
    for (const [v, r] of Object.entries(results)) {
      console.log([v.padEnd(10), String(r.frames).padStart(6), ...ATTRS.map((a) => (100 * r[a]).toFixed(1).padStart(10)), (100 * r.overall).toFixed(1).padStart(8), (100 * r.all_correct).toFixed(1).padStart(7)].join(' '));
    }
    console.log(`deterministic (same prompt+seed -> same bytes, batch 1 vs batch 2): ${JSON.stringify(determinism)}`);
    if (speed) {
      console.log('\nms per video (onnxruntime-node, 2 intra-op threads):');
      for (const [tn, s] of Object.entries(speed)) {
        console.log(`  ${tn.padEnd(9)} ${s.variant.padEnd(9)} ${s.frames} frames  ` + Object.entries(s.ms_per_video).map(([b, ms]) => `b${b}: ${ms}`).join('  '));
      }
    }
    for (const [v, f] of Object.entries(failures)) if (f.length) console.log(`\n${v} failures (first ${f.length}):\n` + f.map((x) => `  ${x.prompt} [seed ${x.seed}] -> ${JSON.stringify(x.got)}`).join('\n'));
    console.log(`\n${pass ? 'PASS' : 'FAIL'} (min overall ${(100 * minOverall).toFixed(1)}%${args.minAccuracy !== null ? `, required ${(100 * args.minAccuracy).toFixed(1)}%` : ''}) in ${report.seconds}s`);
  }
  process.exit(pass ? 0 : 1);
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('eval.mjs')) {
  main().catch((e) => { console.error(e); process.exit(2); });
}
