#!/usr/bin/env node
// What encoding costs next to inference, per tier: a cold ffmpeg process per job vs the
// worker's warm pool; a batch's videos in one process each vs one shared process (segment
// muxer); and the engine's ms per batch size for scale.
// Usage: build (tsc in packages/contracts, core, worker) then: node bench/encoder.mjs [runs=15]
// Frames come from the shipped model (models/clickvid-shapes), so x264 sees real output.
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { Encoder } = await import(`${root}packages/worker/dist/encoder.js`);
const { InferenceEngine } = await import(`${root}packages/worker/dist/engine.js`);
const { ModelRegistry } = await import(`${root}packages/core/dist/index.js`);
const runs = Number(process.argv[2] ?? 15);
const ffmpegPath = process.env.CLICKVID_FFMPEG ?? '/usr/bin/ffmpeg';
const threads = Number(process.env.CLICKVID_ORT_THREADS ?? 2);

const registry = ModelRegistry.load(`${root}models`, 'clickvid-shapes');
const engine = new InferenceEngine({ resolveVariant: (n) => registry.variant(n), intraOpNumThreads: threads });
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const fmt = (xs) => `p50 ${pct(xs, 50).toFixed(1)} ms, p90 ${pct(xs, 90).toFixed(1)} ms`;
// The gap between jobs, in which the worker's pool refills.
const pause = () => new Promise((r) => setTimeout(r, 100));
const PRESET = { draft: 'ultrafast', standard: 'veryfast', final: 'veryfast' };

console.log(`clickvid-shapes ${registry.version}, ffmpeg ${ffmpegPath}, ort threads ${threads}, ${runs} runs per case`);
for (const q of ['draft', 'standard', 'final']) {
  const tier = registry.tier(q);
  const v = registry.variant(tier.variant);
  const frames = Math.max(1, Math.round(tier.duration_s * tier.fps));
  const item = (seed) => ({ tokens: registry.encodePrompt('two red circles moving right on a blue background').tokens, noise: registry.noise(seed), times: registry.times(frames) });
  await engine.warm(tier.variant);
  const perBatch = [];
  for (const b of [1, 2, 4, 8].filter((n) => n <= tier.max_batch)) {
    const xs = [];
    for (let r = 0; r < Math.max(3, Math.ceil(runs / b)); r++) {
      const res = await engine.run(tier.variant, Array.from({ length: b }, (_, i) => item(r * 10 + i)));
      xs.push(res.seconds * 1000);
    }
    perBatch.push(`b${b} ${pct(xs, 50).toFixed(1)} ms (${(pct(xs, 50) / b).toFixed(1)}/video)`);
  }
  const rgb = (await engine.run(tier.variant, [item(1)])).videos[0];
  const inf1 = (await engine.run(tier.variant, [item(2)])).seconds * 1000;
  console.log(`\n${q}: ${tier.variant} ${v.width}x${v.height}, ${frames} frames @ ${tier.fps} fps`);
  console.log(`  inference  ${perBatch.join(' | ')}`);
  const spec = { width: v.width, height: v.height, fps: tier.fps, frames, preset: PRESET[q] };
  const cold = new Encoder({ ffmpegPath, warmPerSpec: 0 });
  const warm = new Encoder({ ffmpegPath, warmPerSpec: 1 });
  warm.prewarm(spec);
  await pause();
  const c = [], w = [];
  let bytes = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await cold.encode(spec, rgb);
    c.push(performance.now() - t0);
    await pause();
    const t1 = performance.now();
    const out = await warm.encode(spec, rgb);
    w.push(performance.now() - t1);
    if (!out.warm) console.warn('  (the pool was empty for one run)');
    bytes = out.video.length;
    await pause();
  }
  await cold.close();
  await warm.close();
  console.log(`  encode ${spec.preset.padEnd(9)} cold ${fmt(c)} | warm pool ${fmt(w)} | ${(pct(c, 50) / pct(w, 50)).toFixed(1)}x faster, ${bytes} B`);
  console.log(`  warm encode / batch-1 inference: ${(pct(w, 50) / inf1).toFixed(2)}x`);

  // A batch leaving the engine: its videos in a process each, or all in one (what the worker does).
  const n = tier.max_batch;
  const apart = new Encoder({ ffmpegPath, warmPerSpec: 0, maxGroup: 1 });
  const together = new Encoder({ ffmpegPath, warmPerSpec: 0 });
  const a = [], t = [];
  for (let r = 0; r < Math.max(3, Math.ceil(runs / 3)); r++) {
    const t0 = performance.now();
    await Promise.all(Array.from({ length: n }, () => apart.encode(spec, rgb)));
    a.push(performance.now() - t0);
    await pause();
    const t1 = performance.now();
    const outs = await Promise.all(Array.from({ length: n }, () => together.encode(spec, rgb)));
    t.push(performance.now() - t1);
    if (outs[0].groupSize !== n) console.warn(`  (grouped ${outs[0].groupSize} of ${n})`);
    await pause();
  }
  await apart.close();
  await together.close();
  console.log(`  batch of ${n}, cold: a process per video ${fmt(a)} | one process ${fmt(t)} | ${(pct(a, 50) / pct(t, 50)).toFixed(1)}x faster, ${(pct(t, 50) / n).toFixed(1)} ms/video`);
}
await engine.close();
