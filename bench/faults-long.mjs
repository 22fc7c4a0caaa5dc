// The long forms of two fault tests, which `npm test` runs short: Redis SIGKILLed and down
// 35 s (a client submitting tagged requests the whole time), and two API servers with three
// workers on one Redis taking 1,000 concurrent submits. Prints the tests' `[faults]` figures.
//
//   node bench/faults-long.mjs [--redis-down-s 35] [--cluster-jobs 1000]
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values: o } = parseArgs({ options: { 'redis-down-s': { type: 'string', default: '35' }, 'cluster-jobs': { type: 'string', default: '1000' } } });
const res = spawnSync(
  'npx',
  ['vitest', 'run', '--project', 'serial', 'test/faults/redis-kill.test.ts', 'test/faults/cluster.test.ts', '--no-file-parallelism', '--reporter', 'verbose'],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    env: { ...process.env, CLICKVID_FAULT_REDIS_DOWN_S: o['redis-down-s'], CLICKVID_FAULT_CLUSTER_JOBS: o['cluster-jobs'] },
    maxBuffer: 64 * 1024 * 1024,
  },
);
const lines = res.stdout.split('\n');
for (const l of lines) if (/\[faults\]|✓|×|FAIL|Tests |Duration/.test(l)) console.log(l);
process.exit(res.status ?? 1);
