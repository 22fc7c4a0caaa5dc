// Cancel of a running final (issue #9): the worker's engine alone (built packages, no stack), a 72-frame
// final aborted once 30 % of it is done, `--n` times: ms from the abort to the render rejecting, next to
// the unit times of the same run. An abort is taken at the next unit boundary.
//   npm run build && node bench/cancel-latency.mjs [--n 6]
import os from 'node:os';
import path from 'node:path';
import { ModelRegistry } from '../packages/core/dist/index.js';
import { ScheduledEngine } from '../packages/worker/dist/index.js';
import { ROOT } from './lib.mjs';

const n = Number(process.argv[process.argv.indexOf('--n') + 1]) || 6;
const registry = ModelRegistry.load(path.join(ROOT, 'models'), 'clickvid-shapes');
const tier = registry.tier('final');
const frames = Math.round(tier.duration_s * tier.fps);
const msPerFrame = tier.ms_per_video['1'] / frames;
const units = [];
const engine = new ScheduledEngine({ resolveVariant: (name) => ({ ...registry.variant(name), msPerFrame }), onUnit: (u) => units.push(u.seconds * 1000) });
await engine.warm(tier.variant);
console.log(`cancel latency, ${n} finals of ${frames} frames in units of ${engine.chunkFrames(tier.variant)}; load ${os.loadavg()[0].toFixed(2)}`);
const rows = [];
for (let i = 0; i < n; i++) {
  const ac = new AbortController();
  let t0 = 0;
  const seen = units.length;
  const render = engine.render(
    { lane: 'final', variant: tier.variant, tokens: registry.encodePrompt('a red circle moving left').tokens, noise: registry.noise(i), times: registry.times(frames) },
    { signal: ac.signal, onProgress: (f) => { if (!t0 && f > 0.3) { t0 = performance.now(); ac.abort(); } } },
  );
  await render.catch(() => undefined);
  const ms = performance.now() - t0;
  const mine = units.slice(seen).sort((a, b) => a - b);
  rows.push({ cancel_ms: ms, unit_ms_median: mine[mine.length >> 1] });
  console.log(`  abort → rejected ${ms.toFixed(1)} ms; its units: median ${mine[mine.length >> 1].toFixed(1)} ms, max ${mine.at(-1).toFixed(1)} ms`);
}
await engine.close();
