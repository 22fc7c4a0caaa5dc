// Cancel of a running final (issue #9): the worker's engine alone (built packages, no stack), a final
// aborted once 30 % of it is done (so it is running, between two of its units), `--n` times: ms from
// the abort to the render rejecting, next to the unit times of the same run. An abort is taken at the
// next unit boundary, so it should end within one unit: "within one unit" compares the ms with the
// longest unit of that render.
//   npm run build && node bench/cancel-latency.mjs [--n 6] [--model clickvid-shapes | pipeline-fixture]
import os from 'node:os';
import path from 'node:path';
import { decodeFrames, ModelRegistry } from '../packages/core/dist/index.js';
import { ScheduledEngine } from '../packages/worker/dist/index.js';
import { ROOT } from './lib.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const n = Number(arg('n', 6));
const modelsDir = path.join(ROOT, 'models');
const model = arg('model', 'clickvid-shapes');
const registry = ModelRegistry.load(modelsDir, model);
const tier = registry.tier('final');
const frames = registry.resolveParams('final', {}, () => 0).frames;
const msPerFrame = (tier.ms_per_video['1'] ?? Infinity) / frames;
const units = [];
const engine = new ScheduledEngine({ resolveVariant: (name) => ({ ...registry.variant(name), msPerFrame }), onUnit: (u) => units.push(u.seconds * 1000) });
const pipeline = registry.form === 'pipeline';
if (pipeline) await engine.warmPipeline(modelsDir, model);
else await engine.warm(tier.variant);
const what = pipeline
  ? `${registry.pipeline.tiers.final.steps} denoiser steps, then ${decodeFrames(registry.pipeline.latent, frames)} ${registry.pipeline.latent.layout === 'scene' ? 'video' : 'latent'} frames decoded in pieces`
  : `${frames} frames in units of ${engine.chunkFrames(tier.variant)}`;
console.log(`cancel latency, ${model}: ${n} running finals (${what}); load ${os.loadavg()[0].toFixed(2)}`);
const rows = [];
for (let i = 0; i < n; i++) {
  const ac = new AbortController();
  let t0 = 0;
  const seen = units.length;
  const control = { signal: ac.signal, onProgress: (f) => { if (!t0 && f > 0.3) { t0 = performance.now(); ac.abort(); } } };
  const prompt = 'a red circle moving left';
  const render = pipeline
    ? engine.renderPipeline({ lane: 'final', modelsDir, model, quality: 'final', prompt, seed: i }, control)
    : engine.render({ lane: 'final', variant: tier.variant, tokens: registry.encodePrompt(prompt).tokens, noise: registry.noise(i), times: registry.times(frames) }, control);
  await render.catch(() => undefined);
  const ms = performance.now() - t0;
  const mine = units.slice(seen).sort((a, b) => a - b);
  rows.push({ ms, within: ms <= mine.at(-1) });
  console.log(`  abort → rejected ${ms.toFixed(1)} ms; its units: median ${mine[mine.length >> 1].toFixed(1)} ms, max ${mine.at(-1).toFixed(1)} ms; within one unit: ${ms <= mine.at(-1) ? 'yes' : 'no'}`);
}
const ms = rows.map((r) => r.ms).sort((a, b) => a - b);
console.log(`cancel → rejected: median ${ms[ms.length >> 1].toFixed(1)} ms, max ${ms.at(-1).toFixed(1)} ms; within one unit in ${rows.filter((r) => r.within).length} of ${n}`);
await engine.close();
