#!/usr/bin/env node
// Engine throughput of the clickvid-shapes ONNX variants: videos/s by batch size, INT8 next to FP32
// at the same resolution and frame count, in one run (onnxruntime-node, 2 intra-op threads).
//
//   node bench/engine-speed.mjs                 # all resolutions, batches 1,2,4,8
//   node bench/engine-speed.mjs --batches 1,4 --reps 5 --frames 24 --threads 2 --json
import {
  loadManifest, loadOrt, createSession, generate,
} from '../models/clickvid-shapes/runtime.mjs';

const args = { batches: [1, 2, 4, 8], reps: 5, frames: null, threads: 2, json: false };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const k = argv[i];
  if (k === '--batches') args.batches = argv[++i].split(',').map(Number);
  else if (k === '--reps') args.reps = +argv[++i];
  else if (k === '--frames') args.frames = +argv[++i];
  else if (k === '--threads') args.threads = +argv[++i];
  else if (k === '--json') args.json = true;
  else { console.error(`unknown flag ${k}`); process.exit(2); }
}

const manifest = loadManifest();
const ort = loadOrt();

// pair variants by resolution: {128: {fp32: name, int8: name}, ...}
const pairs = {};
for (const [name, v] of Object.entries(manifest.variants)) {
  const key = `${v.width}x${v.height}`;
  (pairs[key] ||= {})[v.precision] = name;
}

// default frame count per resolution: the tier that uses that resolution's int8 variant (else any tier)
function defaultFrames(res) {
  const tiers = Object.values(manifest.tiers);
  const t = tiers.find((x) => `${manifest.variants[x.variant].width}x${manifest.variants[x.variant].height}` === res && manifest.variants[x.variant].precision === 'int8')
    || tiers.find((x) => `${manifest.variants[x.variant].width}x${manifest.variants[x.variant].height}` === res) || tiers[0];
  return Math.round(t.fps * t.duration_s);
}

async function measure(name, frames, batch) {
  const session = await createSession(ort, manifest, name, { threads: args.threads });
  const jobs = Array.from({ length: batch }, (_, i) => ({ prompt: 'three blue triangles spinning on a yellow background', seed: 42 + i }));
  await generate(ort, session, manifest, jobs, frames);
  const ts = [];
  for (let r = 0; r < args.reps; r++) ts.push((await generate(ort, session, manifest, jobs, frames)).ms);
  await session.release?.();
  ts.sort((a, b) => a - b);
  const ms = ts[ts.length >> 1];
  return { ms_per_batch: +ms.toFixed(2), ms_per_video: +(ms / batch).toFixed(2), videos_per_s: +((1000 * batch) / ms).toFixed(2) };
}

const rows = [];
for (const [res, p] of Object.entries(pairs)) {
  const frames = args.frames || defaultFrames(res);
  for (const b of args.batches) {
    const row = { resolution: res, frames, batch: b };
    for (const prec of ['fp32', 'int8']) if (p[prec]) row[prec] = await measure(p[prec], frames, b);
    if (row.fp32 && row.int8) row.int8_speedup = +(row.fp32.ms_per_batch / row.int8.ms_per_batch).toFixed(2);
    rows.push(row);
    if (!args.json) {
      const f = (x) => (x ? `${String(x.videos_per_s).padStart(8)} v/s ${String(x.ms_per_video).padStart(8)} ms/v` : '     n/a');
      console.log(`${res.padEnd(8)} ${String(frames).padStart(3)}f  b${String(b).padEnd(2)}  fp32 ${f(row.fp32)}   int8 ${f(row.int8)}   int8 speed-up ${row.int8_speedup ?? '-'}x`);
    }
  }
}
if (args.json) console.log(JSON.stringify({ threads: args.threads, reps: args.reps, rows }, null, 2));
