#!/usr/bin/env node
// Promote refines the draft (issue #9): does a final promoted from a draft show the draft's scene?
// For every held-out prompt of models/clickvid-shapes (compositions never rendered in training), the
// draft is rendered as the worker renders it (int8-128, its tier's frames), and the promoted final as
// the worker renders it (fp32-256) from the draft's stored latents at the draft's frame times: for the
// single-graph model the seed noise vector the draft ran with; for a pipeline (clickvid-shapes-3.0)
// the draft's denoised latents, renoised to the manifest's refine start sigma and denoised again. Foreground masks come from the
// model's own analyzer (runtime.mjs analyzeFrame: pixels away from each row's background); the
// final's 256-px mask is brought to 128 px (a pixel is foreground when 2 of its 4 are). Prints the
// mean foreground IoU per prompt and over all (target ≥ 0.85), and the worst prompts; as a control,
// the same figure for a final started from another seed's noise (what the metric gives for another scene).
//
//   npm run build && node bench/refine-iou.mjs [--n 0 (all)] [--model clickvid-shapes | clickvid-shapes-3.0]
import os from 'node:os';
import path from 'node:path';
import { ModelRegistry } from '../packages/core/dist/index.js';
import { InferenceEngine, PipelineRunner, runPipeline } from '../packages/worker/dist/index.js';
import { analyzeFrame, heldoutSet, loadManifest } from '../models/clickvid-shapes/runtime.mjs';
import { ROOT } from './lib.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const modelName = arg('model', 'clickvid-shapes');
const registry = ModelRegistry.load(path.join(ROOT, 'models'), modelName);
if (registry.id === 'pipeline-fixture') throw new Error('the fixture has random weights: its scenes mean nothing');
const n = Number(arg('n', 0));
const items = heldoutSet(loadManifest(path.join(ROOT, 'models', modelName))).slice(0, n || undefined);

const draftTier = registry.tier('draft');
const finalTier = registry.tier('final');
const draftParams = registry.resolveParams('draft', {}, () => 0);
const times = registry.times(draftParams.frames);
const dv = registry.variant(draftTier.variant);
const fv = registry.variant(finalTier.variant);
console.log(
  `refine IoU: ${registry.id} ${registry.version}, ${items.length} held-out prompts, draft ${dv.name} ${draftParams.frames} frames → final ${fv.name} at the draft's times; load ${os.loadavg()[0].toFixed(1)}`,
);

/** Foreground mask of frame f of a [F, H, W, 3] video, at `size`² pixels (2×2 blocks: foreground when at least 2 of 4 are). */
function mask(video, f, H, W, size) {
  const m = analyzeFrame(video, H, W, f * H * W * 3).mask;
  if (H === size) return m;
  const k = H / size;
  const out = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let c = 0;
      for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) c += m[(y * k + dy) * W + x * k + dx];
      out[y * size + x] = c * 2 >= k * k ? 1 : 0;
    }
  }
  return out;
}

/** Mean IoU over the frames of the draft's and a final's foreground masks (frames where neither drew anything are left out). */
function meanIou(draft, final) {
  let sum = 0;
  let counted = 0;
  for (let f = 0; f < times.length; f++) {
    const a = mask(draft, f, dv.height, dv.width, dv.width);
    const b = mask(final, f, fv.height, fv.width, dv.width);
    let inter = 0;
    let union = 0;
    for (let p = 0; p < a.length; p++) {
      inter += a[p] & b[p];
      union += a[p] | b[p];
    }
    if (union === 0) continue;
    sum += inter / union;
    counted++;
  }
  return counted ? sum / counted : 1;
}

/** Per prompt: the draft, the final promoted from it, and a final from another seed (the control). */
async function graphRenders() {
  const engine = new InferenceEngine({ resolveVariant: (name) => registry.variant(name) });
  const out = [];
  for (const item of items) {
    const tokens = registry.encodePrompt(item.prompt).tokens;
    // What the draft stores and the promoted final starts from: the seed's noise vector (see the worker's start-latents.ts).
    const latents = registry.noise(item.seed);
    const draft = await engine.run(dv.name, [{ tokens, noise: latents, times }]);
    const final = await engine.run(fv.name, [{ tokens, noise: latents, times }]);
    const other = await engine.run(fv.name, [{ tokens, noise: registry.noise(item.seed + 1), times }]);
    out.push({ item, draft: draft.videos[0], final: final.videos[0], other: other.videos[0] });
  }
  await engine.close();
  return out;
}

/** The same for a pipeline: the final refines the draft's latents (manifest `refine`), at the draft's frame count. */
async function pipelineRenders() {
  const runner = await PipelineRunner.load(registry.pipeline, { qualities: ['draft', 'final'] });
  const out = [];
  for (const item of items) {
    const draft = await runPipeline(runner, { prompt: item.prompt, seed: item.seed, quality: 'draft' });
    const start = { latents: draft.latents, frames: draft.frames, width: draft.width, height: draft.height };
    const final = await runPipeline(runner, { prompt: item.prompt, seed: item.seed, quality: 'final', frames: draft.frames, start });
    const other = await runPipeline(runner, { prompt: item.prompt, seed: item.seed + 1, quality: 'final', frames: draft.frames });
    out.push({ item, draft: draft.video, final: final.video, other: other.video });
  }
  await runner.close();
  return out;
}

const rows = (registry.form === 'graph' ? await graphRenders() : await pipelineRenders()).map(({ item, draft, final, other }) => ({
  prompt: item.prompt,
  seed: item.seed,
  iou: meanIou(draft, final),
  control: meanIou(draft, other),
}));

const mean = rows.reduce((s, r) => s + r.iou, 0) / rows.length;
const sorted = [...rows].sort((a, b) => a.iou - b.iou);
console.log(`mean foreground IoU ${mean.toFixed(3)} over ${rows.length} prompts (target ≥ 0.85); median ${sorted[sorted.length >> 1].iou.toFixed(3)}, min ${sorted[0].iou.toFixed(3)}`);
console.log(`prompts at or above 0.85: ${rows.filter((r) => r.iou >= 0.85).length} of ${rows.length}; worst:`);
for (const r of sorted.slice(0, 5)) console.log(`  ${r.iou.toFixed(3)}  "${r.prompt}" seed ${r.seed}`);
const control = rows.reduce((s, r) => s + r.control, 0) / rows.length;
console.log(`control: a final from another seed's noise (same prompt) gives mean IoU ${control.toFixed(3)} with the draft`);
