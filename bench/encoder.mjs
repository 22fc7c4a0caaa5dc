#!/usr/bin/env node
// What encoding costs next to inference, per tier, side by side in one run:
//   wasm       the in-process encoder (h264-mp4-encoder, minih264e in WASM, one worker_thread), warmed up
//   ffmpeg warm  the worker's warm pool: a pre-started ffmpeg per job (refilled in the gap between jobs)
//   ffmpeg cold  an ffmpeg process started per job
// Each: wall ms per job (p50/p90) and CPU ms per job. CPU for wasm is process.cpuUsage() (all threads
// of this process: main + the WASM thread); for ffmpeg it is the children's CPU from /proc/self/stat
// (cutime+cstime of reaped children, 10 ms ticks, so averaged over the runs) plus this process's own.
// Warm-pool CPU includes the refill processes started for the next job: a warm pool moves the start-up
// out of the job's latency, not off the CPU. Also: file size, and mean abs error of the decoded
// video against the model's frames (ffmpeg decode), and a batch of max_batch videos at once.
// Usage: build (npx turbo run build --filter=@clickvid/worker...) then: node bench/encoder.mjs [runs=15]
// Frames come from the shipped model (models/clickvid-shapes), so the encoders see real output.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { Encoder, WASM_GROUP_VOLUME, WASM_MAX_VOLUME } = await import(`${root}packages/worker/dist/encoder.js`);
const { InferenceEngine } = await import(`${root}packages/worker/dist/engine.js`);
const { ModelRegistry } = await import(`${root}packages/core/dist/index.js`);
const runs = Number(process.argv[2] ?? 15);
const ffmpegPath = process.env.CLICKVID_FFMPEG ?? '/usr/bin/ffmpeg';
const threads = Number(process.env.CLICKVID_ORT_THREADS ?? 2);

const registry = ModelRegistry.load(`${root}models`, 'clickvid-shapes');
const engine = new InferenceEngine({ resolveVariant: (n) => registry.variant(n), intraOpNumThreads: threads });
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const f1 = (x) => x.toFixed(1);
// The gap between jobs, in which the worker's pool refills.
const pause = () => new Promise((r) => setTimeout(r, 100));
// By lane, as the processor picks it: standard and final share the final lane.
const PRESET = { draft: 'ultrafast', standard: 'veryfast', final: 'veryfast' };
const TICK_MS = 1000 / 100; // USER_HZ
const childCpuMs = () => {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(f[14]) + Number(f[15])) * TICK_MS; // cutime, cstime (fields 16, 17)
};
const ownCpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const tmp = mkdtempSync(join(tmpdir(), 'cv-bench-enc-'));
function meanAbsError(video, rgb) {
  const file = join(tmp, 'v.mp4');
  writeFileSync(file, video);
  const out = execFileSync(ffmpegPath, ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 1 << 30 });
  if (out.length !== rgb.length) return NaN;
  let s = 0;
  for (let i = 0; i < rgb.length; i++) s += Math.abs(out[i] - rgb[i]);
  return s / rgb.length;
}

/** `runs` sequential encodes of one clip: wall per job, CPU per job (own + children), last output. */
async function measure(enc, spec, rgb, { gap = true } = {}) {
  const wall = [];
  let out;
  const c0 = ownCpuMs(), k0 = childCpuMs();
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    out = await enc.encode(spec, rgb);
    wall.push(performance.now() - t0);
    if (gap) await pause();
  }
  // Let the last refill (warm pool) start and the pause timers settle into the count the same way each time.
  const own = (ownCpuMs() - c0) / runs;
  const kids = (childCpuMs() - k0) / runs;
  return { wall, own, kids, out };
}

const tiers = process.env.CLICKVID_TIERS?.split(',') ?? ['draft', 'standard', 'final'];
console.log(`clickvid-shapes ${registry.version}, ffmpeg ${ffmpegPath}, ort threads ${threads}, ${runs} runs per case; WASM thresholds: a lone clip ≤ ${WASM_MAX_VOLUME} px·frames (256x256x48), a group ≤ ${WASM_GROUP_VOLUME} in all (128x128x16 x4)`);
const rows = [];
for (const q of tiers) {
  const tier = registry.tier(q);
  const v = registry.variant(tier.variant);
  for (const dur of [tier.duration_s, tier.max_duration_s]) {
    const frames = Math.max(1, Math.round(dur * tier.fps));
    const item = (seed) => ({ tokens: registry.encodePrompt('two red circles moving right on a blue background').tokens, noise: registry.noise(seed), times: registry.times(frames) });
    await engine.warm(tier.variant);
    await engine.run(tier.variant, [item(0)]);
    const rgb = (await engine.run(tier.variant, [item(1)])).videos[0];
    const inf1 = (await engine.run(tier.variant, [item(2)])).seconds * 1000;
    const spec = { width: v.width, height: v.height, fps: tier.fps, frames, preset: PRESET[q] };
    console.log(`\n${q} ${dur}s: ${tier.variant} ${v.width}x${v.height}, ${frames} frames @ ${tier.fps} fps, ${spec.width * spec.height * frames} px·frames; inference b1 ${f1(inf1)} ms`);

    // WASM, forced for every size and group here (limits ∞), so the thresholds can be read off.
    const wasm = new Encoder({ ffmpegPath, wasm: { maxVolume: Infinity, groupVolume: Infinity } });
    for (let i = 0; i < 3; i++) await wasm.encode(spec, rgb); // WASM compile + JIT warm-up
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const w = await measure(wasm, spec, rgb);
    loop.disable();
    const warmPool = new Encoder({ ffmpegPath, wasm: false, warmPerSpec: 1 });
    warmPool.prewarm(spec);
    await pause();
    const fw = await measure(warmPool, spec, rgb);
    if (!fw.out.warm) console.warn('  (the pool was empty for the last run)');
    const cold = new Encoder({ ffmpegPath, wasm: false, warmPerSpec: 0 });
    const fc = await measure(cold, spec, rgb);
    const line = (name, m) =>
      `  ${name.padEnd(12)} wall p50 ${f1(pct(m.wall, 50)).padStart(6)} ms  p90 ${f1(pct(m.wall, 90)).padStart(6)} ms | CPU/job ${f1(m.own + m.kids).padStart(6)} ms (own ${f1(m.own)}, ffmpeg ${f1(m.kids)}) | ${String(m.out.video.length).padStart(6)} B, MAE ${meanAbsError(m.out.video, rgb).toFixed(2)}`;
    console.log(line('wasm', w) + `  | event-loop delay max ${f1(loop.max / 1e6)} ms`);
    console.log(line(`ffmpeg warm`, fw) + `  (${spec.preset})`);
    console.log(line(`ffmpeg cold`, fc));
    console.log(`  wasm vs ffmpeg warm: wall ${f1(pct(fw.wall, 50) / pct(w.wall, 50))}x, CPU ${f1((fw.own + fw.kids) / (w.own + w.kids))}x; wasm encode / b1 inference ${(pct(w.wall, 50) / inf1).toFixed(2)}x`);

    // A batch leaving the engine at once: serialized WASM encodes vs one shared, pre-started ffmpeg process (what the
    // worker does for finals). CPU per video includes the process's start-up.
    const n = tier.max_batch;
    const batch = async (enc, prewarm, n) => {
      const xs = [];
      const c0 = ownCpuMs(), k0 = childCpuMs();
      const reps = Math.max(3, Math.ceil(runs / 3));
      for (let r = 0; r < reps; r++) {
        if (prewarm) {
          enc.prewarm(spec);
          await pause();
        }
        const t0 = performance.now();
        await Promise.all(Array.from({ length: n }, () => enc.encode(spec, rgb)));
        xs.push(performance.now() - t0);
        await pause();
      }
      return { wall: pct(xs, 50), cpu: (ownCpuMs() - c0 + childCpuMs() - k0) / reps / n };
    };
    for (const k of [...new Set([2, n])]) {
      const bw = await batch(wasm, false, k);
      const shared = new Encoder({ ffmpegPath, wasm: false, warmPerSpec: 1 });
      const bf = await batch(shared, true, k);
      await shared.close();
      console.log(`  batch of ${k}: wasm ${f1(bw.wall)} ms (${f1(bw.wall / k)}/video, CPU ${f1(bw.cpu)}/video) | ffmpeg one shared warm process ${f1(bf.wall)} ms (${f1(bf.wall / k)}/video, CPU ${f1(bf.cpu)}/video)`);
    }
    rows.push({ q, frames, wasm: pct(w.wall, 50), warm: pct(fw.wall, 50), cold: pct(fc.wall, 50) });
    await Promise.all([wasm.close(), warmPool.close(), cold.close()]);
  }
}
await engine.close();
rmSync(tmp, { recursive: true, force: true });
console.log('\nsummary (wall p50 ms): ' + rows.map((r) => `${r.q}x${r.frames}: wasm ${f1(r.wasm)} / warm ${f1(r.warm)} / cold ${f1(r.cold)}`).join(' | '));
