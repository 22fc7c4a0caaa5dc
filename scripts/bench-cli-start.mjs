// Start time of an installed `clickvid` bin: median of N runs of each command, beside a bare
// `node -e 0` measured in the same loop (on a shared, loaded machine the ratio is what holds).
// Usage: node scripts/bench-cli-start.mjs <path to node_modules/.bin/clickvid> [runs=10]
import { spawnSync } from 'node:child_process';

const bin = process.argv[2];
const runs = Number(process.argv[3] ?? 10);
if (!bin) throw new Error('usage: bench-cli-start.mjs <bin> [runs]');

const cases = [
  ['node -e 0', process.execPath, ['-e', '0']],
  ['--version', bin, ['--version']],
  ['--help', bin, ['--help']],
  ['generate --help', bin, ['generate', '--help']],
];
const times = new Map(cases.map(([name]) => [name, []]));
// Interleaved, so a burst of load elsewhere hits every case alike.
for (let i = 0; i < runs; i++) {
  for (const [name, cmd, args] of cases) {
    const started = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}: ${r.stderr}`);
    times.get(name).push(ms);
  }
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const result = Object.fromEntries([...times].map(([name, xs]) => [name, Math.round(median(xs))]));
process.stdout.write(`${JSON.stringify({ runs, median_ms: result })}\n`);
