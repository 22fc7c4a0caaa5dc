/**
 * SIGTERM when Redis is gone: draining and handing jobs back need Redis, and BullMQ's close
 * waits for it forever. The worker process must still exit, soon after its drain deadline.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '@clickvid/core';
import { expect, it } from 'vitest';
import { startRedisServer } from './internal/testing.testkit.js';

it('with Redis gone, SIGTERM still ends the worker: 3 s past its drain deadline it exits', async () => {
  const redis = await startRedisServer();
  const dataDir = mkdtempSync(join(tmpdir(), 'cv-shutdown-'));
  const proc = spawn(process.execPath, [join(REPO_ROOT, 'packages/worker/dist/main.js')], {
    env: { ...process.env, CLICKVID_REDIS_URL: redis.url, CLICKVID_DATA_DIR: dataDir, CLICKVID_LOG_LEVEL: 'info', CLICKVID_DRAIN_TIMEOUT_MS: '500', CLICKVID_ORT_THREADS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d));
    proc.stderr!.on('data', (d: Buffer) => (out += d));
    // Its signal handlers are on once it says it is ready.
    for (let i = 0; !out.includes('worker ready'); i++) {
      expect(i, `the worker never said it was ready:\n${out}`).toBeLessThan(600);
      expect(proc.exitCode, out).toBeNull();
      await new Promise((r) => setTimeout(r, 50));
    }
    await redis.stop();
    const t0 = Date.now();
    const exit = new Promise<string>((r) => proc.once('exit', (code, sig) => r(String(sig ?? code))));
    proc.kill('SIGTERM');
    const how = await Promise.race([exit, new Promise<string>((r) => setTimeout(() => r('still running after 15 s'), 15_000))]);
    const stopS = (Date.now() - t0) / 1000;
    expect(how, out.slice(-2000)).toBe('1');
    expect(stopS).toBeLessThan(6);
    expect(out).toContain('shutdown did not finish');
  } finally {
    proc.kill('SIGKILL');
    await redis.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
