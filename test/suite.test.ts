/**
 * Rules of the suite, kept true as it grows: a test file that starts the stack or kills
 * processes runs in the serial project (vitest.config.ts's SERIAL), or `npm test` on 2 cores
 * runs two stacks at once and times out; and no test skips itself, so a missing prerequisite
 * shows as a failure, never as a green run that checked nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERIAL } from '../vitest.config.js';
import { ROOT } from './harness.js';

/** What marks a file as heavy: a whole stack, a service process, or a kill. */
const HEAVY = /\bstartStack\(|\bstartService\(|\.kill\(|\bSIGKILL\b/;

/** Ways a vitest test can skip itself (pieces joined, so this file does not match itself). */
const SKIPS = new RegExp(['\\.skip' + '(If)?\\(', '\\.runIf\\(', '\\.todo\\(', '\\bctx\\.skip\\('].join('|'));

/** The glob subset SERIAL uses (`**`, `*`) as a RegExp over repo-relative paths. */
const globToRegExp = (glob: string) =>
  new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\//g, '\u0000').replace(/\*/g, '[^/]*').replace(/\u0000/g, '(?:.*/)?')}$`);

/** Repo-relative paths of the *.test.ts files under `dir`, outside node_modules, dist and dot-folders. */
function testFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'dist' || e.name.startsWith('.') ? [] : testFiles(rel);
    return e.name.endsWith('.test.ts') ? [rel] : [];
  });
}

describe('the test suite', () => {
  const files = testFiles('');

  it('every file that starts the stack or kills processes is in the serial project', () => {
    const serial = SERIAL.map(globToRegExp);
    const heavy = files.filter((f) => HEAVY.test(readFileSync(path.join(ROOT, f), 'utf8')));
    expect(heavy).toContain('packages/cli/src/cli.e2e.test.ts');
    expect(heavy.filter((f) => !serial.some((re) => re.test(f)))).toEqual([]);
    // And the patterns are not so broad that unit files lose their parallelism.
    expect(serial.some((re) => re.test('packages/worker/src/engine.test.ts'))).toBe(false);
  });

  it('no test skips itself: a missing prerequisite fails, naming it (test/global-setup.ts installs or builds it)', () => {
    const skipping = files.filter((f) => SKIPS.test(readFileSync(path.join(ROOT, f), 'utf8')));
    expect(skipping).toEqual([]);
  });
});
