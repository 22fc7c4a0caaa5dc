// ms_per_video of model directories side by side: the manifest's speed table, measured the way
// eval.mjs --write measures it (whole clips per call, median of 3 after a warm-up), alternating
// between the directories for `--rounds` rounds so that a noisy box weighs on each alike.
//   node bench/model-speed.mjs models/clickvid-shapes models/clickvid-shapes-2.2 [--rounds 3]
import path from 'node:path';
import { timeTier } from '../models/clickvid-shapes/eval.mjs';
import { loadManifest, loadOrt } from '../models/clickvid-shapes/runtime.mjs';

const argv = process.argv.slice(2);
const at = argv.indexOf('--rounds');
const rounds = at >= 0 ? Number(argv.splice(at, 2)[1]) : 3;
const dirs = argv.map((d) => path.resolve(d));
if (dirs.length === 0) throw new Error('usage: node bench/model-speed.mjs <model dir>... [--rounds N]');
const ort = loadOrt();
const samples = new Map(dirs.map((d) => [d, {}]));
for (let r = 0; r < rounds; r++) {
  for (const dir of dirs) {
    const m = loadManifest(dir);
    for (const [tn, tier] of Object.entries(m.tiers)) {
      const batches = Object.keys(tier.ms_per_video).map(Number).filter((b) => b <= tier.max_batch);
      const got = await timeTier(ort, m, tn, batches, { dir });
      for (const [b, ms] of Object.entries(got.ms_per_video)) ((samples.get(dir)[tn] ??= {})[b] ??= []).push(ms);
    }
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
for (const [dir, tiers] of samples) {
  console.log(`${path.relative(process.cwd(), dir)} (ms per video, median of ${rounds} rounds):`);
  for (const [tn, byBatch] of Object.entries(tiers)) {
    console.log(`  ${tn.padEnd(9)} ` + Object.entries(byBatch).map(([b, xs]) => `b${b}: ${median(xs).toFixed(1)}`).join('  '));
  }
}
