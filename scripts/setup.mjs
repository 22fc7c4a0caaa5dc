// Makes a fresh clone runnable: npm dependencies, and the system parts clickvid uses
// (redis-server, ffmpeg with ffprobe; with --test also what only the tests use, such as
// promtool). Installs them through apt when missing and running as root; otherwise names
// the package to install and exits non-zero.
// Run directly (`node scripts/setup.mjs [--build] [--test]`) or imported by scripts/start.mjs
// and by the tests' global setup (test/global-setup.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What `npm start` needs: command on PATH → the Debian package that provides it. */
export const RUNTIME_PACKAGES = new Map([
  ['redis-server', 'redis-server'],
  ['ffmpeg', 'ffmpeg'],
  ['ffprobe', 'ffmpeg'],
]);

/**
 * What only the test suite needs, installed by `npm test` and vitest's global setup, never by
 * `npm start`: a server has no use for them. Add test-only system packages here.
 */
export const TEST_PACKAGES = new Map([
  ['promtool', 'prometheus'], // `promtool check metrics|rules`: /metrics and deploy/monitoring/rules.yaml
  ['chromium', 'chromium'], // the studio page driven in a real browser (test/studio.test.ts, playwright-core)
]);

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const say = (msg) => process.stderr.write(`[setup] ${msg}\n`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
}

export function ensureNode() {
  const [maj, min] = process.versions.node.split('.').map(Number);
  if (maj < 20 || (maj === 20 && min < 19)) {
    throw new Error(`clickvid needs Node.js 20.19 or newer; this is ${process.version}.`);
  }
}

/**
 * Makes sure every command of `packages` (command → Debian package) is on PATH, installing the
 * missing ones with apt-get when running as root; otherwise throws naming the packages.
 */
export function ensureSystemDeps(packages = RUNTIME_PACKAGES) {
  const missing = [...packages.keys()].filter((c) => !has(c));
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((c) => packages.get(c)))];
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !has('apt-get')) {
    throw new Error(
      `missing ${missing.join(', ')}: install the Debian/Ubuntu package(s) ${pkgs.join(' ')} ` +
        `(sudo apt-get install -y ${pkgs.join(' ')}), or put them on PATH.`,
    );
  }
  say(`installing ${pkgs.join(' ')} with apt-get …`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Wait for another apt run (a second test run, unattended upgrades) instead of failing on its lock.
  const lock = ['-o', 'DPkg::Lock::Timeout=300'];
  run('apt-get', [...lock, 'update', '-qq'], { env });
  run('apt-get', [...lock, 'install', '-y', '-qq', '--no-install-recommends', ...pkgs], { env });
  const still = missing.filter((c) => !has(c));
  if (still.length) throw new Error(`apt-get finished but ${still.join(', ')} is still not on PATH`);
}

export function ensureNodeModules() {
  const marker = path.join(ROOT, 'node_modules', '.package-lock.json');
  const lock = path.join(ROOT, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  say('installing npm dependencies …');
  // `npm install --no-save` installs exactly the lockfile's versions. Not `npm ci`: npm 11 asks
  // for platform packages (turbo's darwin/windows binaries) it never writes into the lockfile.
  // onnxruntime-node's install script fetches CUDA binaries, which fails offline; the CPU backend ships in the package.
  run('npm', ['install', '--no-save', '--no-audit', '--no-fund'], { env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
}

export function build() {
  run(path.join(ROOT, 'node_modules', '.bin', 'turbo'), ['run', 'build', '--output-logs=errors-only'], {
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', TURBO_NO_UPDATE_NOTIFIER: '1' },
  });
}

/**
 * Everything a command of this repo needs before it runs. `forTests` adds {@link TEST_PACKAGES}.
 */
export function setup({ withBuild = false, forTests = false } = {}) {
  ensureNode();
  ensureSystemDeps(forTests ? new Map([...RUNTIME_PACKAGES, ...TEST_PACKAGES]) : RUNTIME_PACKAGES);
  ensureNodeModules();
  if (withBuild) build();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  try {
    setup({ withBuild: process.argv.includes('--build'), forTests: process.argv.includes('--test') });
  } catch (err) {
    say(`error: ${err.message}`);
    process.exit(1);
  }
}
