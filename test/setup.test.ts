/**
 * scripts/setup.mjs as a user without root meets it: a machine without promtool. The test
 * runs the real script in a child process with a PATH that lacks promtool, as `nobody` when
 * the suite runs as root (setpriv drops the uid for real; getuid is not mocked).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './harness.js';

const SETUP = path.join(ROOT, 'scripts', 'setup.mjs');
const which = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();

// A PATH with what `npm start` needs, the other test-only commands (chromium) and apt-get (so
// the missing-root branch is the one taken), but no promtool: on Debian they all live in
// /usr/bin, so PATH=/usr/bin would not do.
const bin = mkdtempSync(path.join(tmpdir(), 'cv-path-'));
chmodSync(bin, 0o755);
for (const cmd of ['sh', 'redis-server', 'ffmpeg', 'ffprobe', 'chromium', 'apt-get']) symlinkSync(which(cmd), path.join(bin, cmd));
afterAll(() => rmSync(bin, { recursive: true, force: true }));

/** Runs `node <args>` from the repo root without root and with only `bin` on PATH. */
function runUnprivileged(args: string[]) {
  const isRoot = process.getuid?.() === 0;
  const argv = isRoot ? ['/usr/bin/setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', process.execPath, ...args] : [process.execPath, ...args];
  return spawnSync(argv[0]!, argv.slice(1), { cwd: ROOT, encoding: 'utf8', env: { PATH: bin, HOME: tmpdir() }, timeout: 60_000 });
}

describe('scripts/setup.mjs without promtool and without root', () => {
  it('the test setup stops and names the Debian package prometheus', () => {
    const r = runUnprivileged([SETUP, '--test']);
    expect(r.error).toBeUndefined();
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toContain('[setup] error: missing promtool: install the Debian/Ubuntu package(s) prometheus (sudo apt-get install -y prometheus)');
    // It ran without root: it neither installed anything nor got as far as npm or the build.
    expect(r.stderr).not.toMatch(/installing|npm/);
  });

  it('npm start does not need it: the runtime check passes with the same PATH', () => {
    const r = runUnprivileged(['--input-type=module', '-e', `import { ensureSystemDeps } from ${JSON.stringify(SETUP)}; ensureSystemDeps(); console.log('ok as uid', process.getuid());`]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^ok as uid [1-9]\d*$/);
  });
});
