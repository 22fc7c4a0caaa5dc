// Start time of installed `clickvid` bins: median of N runs of each command, beside a bare
// `node -e 0` measured in the same loop (on a shared, loaded machine the ratio is what holds).
// Several bins (e.g. before and after a change) are measured interleaved, in one run.
// Usage: node scripts/bench-cli-start.mjs [--runs 10] <node_modules/.bin/clickvid> [<another bin> …]
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const at = args.indexOf('--runs');
const runs = at === -1 ? 10 : Number(args.splice(at, 2)[1]);
const bins = args;
if (bins.length === 0) throw new Error('usage: bench-cli-start.mjs [--runs N] <bin> [<bin> …]');

const cases = [
  ['node -e 0', process.execPath, ['-e', '0']],
  ...bins.flatMap((bin, i) => {
    const tag = bins.length > 1 ? `[${i}] ` : '';
    return [
      [`${tag}--version`, bin, ['--version']],
      [`${tag}--help`, bin, ['--help']],
      [`${tag}generate --help`, bin, ['generate', '--help']],
    ];
  }),
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
process.stdout.write(`${JSON.stringify({ runs, bins, median_ms: result }, null, 2)}\n`);
