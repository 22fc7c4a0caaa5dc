/**
 * vitest's global setup: before any test file runs, everything the suites need is there, so a
 * bare `npx vitest run` in a fresh clone works and a missing part fails the run, naming it,
 * instead of leaving suites skipped. It installs the system packages the tests use when
 * missing (scripts/setup.mjs: redis-server, ffmpeg, and the test-only ones such as promtool)
 * and builds the packages (the CLI tests spawn packages/cli/dist; the stack runs the server
 * and worker from dist).
 */
import { execFileSync } from 'node:child_process';
// @ts-expect-error plain ESM helper shared with `npm start` and `npm test`
import { setup as setupRepo } from '../scripts/setup.mjs';

export default function setup(): void {
  setupRepo({ withBuild: true, forTests: true });
  // Say which promtool judged /metrics and the Prometheus rules.
  const version = execFileSync('promtool', ['--version'], { encoding: 'utf8' }).split('\n')[0];
  process.stdout.write(`[setup] ${version}\n`);
}
