// Makes a fresh clone runnable: npm dependencies, and the system parts clickvid uses
// (redis-server, ffmpeg with ffprobe). Installs them through apt when missing and
// running as root; otherwise names the package to install and exits non-zero.
// Run directly (`node scripts/setup.mjs`) or imported by scripts/start.mjs.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** command on PATH → the Debian package that provides it */
const SYSTEM = { 'redis-server': 'redis-server', ffmpeg: 'ffmpeg', ffprobe: 'ffmpeg' };

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

export function ensureSystemDeps(commands = Object.keys(SYSTEM)) {
  const missing = commands.filter((c) => !has(c));
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((c) => SYSTEM[c]))];
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !has('apt-get')) {
    throw new Error(
      `missing ${missing.join(', ')}: install the Debian/Ubuntu package(s) ${pkgs.join(' ')} ` +
        `(sudo apt-get install -y ${pkgs.join(' ')}), or put them on PATH.`,
    );
  }
  say(`installing ${pkgs.join(' ')} with apt-get …`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { env });
  const still = commands.filter((c) => !has(c));
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

export function setup({ withBuild = false } = {}) {
  ensureNode();
  ensureSystemDeps();
  ensureNodeModules();
  if (withBuild) build();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  try {
    setup({ withBuild: process.argv.includes('--build') });
  } catch (err) {
    say(`error: ${err.message}`);
    process.exit(1);
  }
}
