/**
 * promtool, Prometheus' own linter, from PATH: the global setup (test/global-setup.ts)
 * installs Debian's `prometheus` package when it is missing, so the tests that use it
 * assert it is there rather than skip their check.
 */
import { execFile, execFileSync } from 'node:child_process';

/** The promtool on PATH; throws naming the package when there is none. */
export function promtoolBin(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('promtool is not on PATH: install the Debian package prometheus (npm test does, as root)');
  }
}

export interface PromtoolResult {
  code: number;
  /** stdout and stderr together: promtool prints lint problems on either, depending on the version. */
  output: string;
}

/** Runs `promtool <args>` with `input` on stdin. */
export function promtool(args: string[], input = ''): Promise<PromtoolResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(promtoolBin(), args, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code: err ? Number(err.code) : 0, output: stdout + stderr });
    });
    child.stdin!.end(input);
  });
}
