// A burst from outside: 120 drafts at once against the stack `npm start` runs (plain HTTP),
// each followed to the end over its event stream; then the mean clickvid_batch_size of the
// burst's draft batches, read from /metrics before and after. Run `npm start` first.
//   node bench/burst-outside.mjs [--n 120]
import { api, histogramMean, machine, runningStack, waitDone } from './lib.mjs';

const n = Number(process.argv[process.argv.indexOf('--n') + 1]) || 120;
const stack = await runningStack();
if (!stack) {
  console.error('No running stack: start one with `npm start` (or set CLICKVID_API_URL and CLICKVID_API_KEY).');
  process.exit(1);
}
const colors = ['red', 'orange', 'yellow', 'green', 'cyan', 'blue', 'purple', 'magenta', 'white'];
const shapes = ['circle', 'square', 'triangle'];
const seed = Math.floor(Math.random() * 1e9); // unique renders: no output-cache hits

const before = await histogramMean(stack, 'clickvid_batch_size', 'lane="draft"');
const t0 = performance.now();
const jobs = await Promise.all(
  Array.from({ length: n }, async (_, i) => {
    const count = ['a', 'two', 'three'][i % 3];
    const prompt = `${count} ${colors[i % colors.length]} ${shapes[(i / 3) % 3 | 0]}${i % 3 ? 's' : ''} bouncing on a black background`;
    const job = await api(stack, 'POST', '/v1/generate', { prompt, seed: seed + i });
    return waitDone(stack, job.id);
  }),
);
const wall = (performance.now() - t0) / 1000;
const after = await histogramMean(stack, 'clickvid_batch_size', 'lane="draft"');
const ok = jobs.filter((j) => j.status === 'succeeded').length;
const batches = after.count - before.count;

console.log(`burst of ${n} drafts against ${stack.url}; ${machine()}`);
console.log(`${ok}/${n} succeeded in ${wall.toFixed(2)} s (${(ok / wall).toFixed(1)} videos/s)`);
console.log(`draft batches during the burst: ${batches}, mean clickvid_batch_size ${((after.sum - before.sum) / batches).toFixed(2)} (over the stack's life ${after.mean.toFixed(2)})`);
