import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Watchdog } from './watchdog.js';

const self = fileURLToPath(new URL('./watchdog.ts', import.meta.url));

describe('watchdog', () => {
  it('SIGKILLs a process whose main thread is stuck in a synchronous call past the limit', () => {
    // A child whose main thread busy-waits (as a hung native call would) with the watchdog armed.
    const code = `
      const { Watchdog } = await import(${JSON.stringify(self)});
      const w = new Watchdog(300);
      await w.ready;
      w.arm();
      (await import('node:fs')).writeSync(1, 'armed ' + Date.now() + '\\n');
      const end = Date.now() + 5000;
      while (Date.now() < end) {}
      console.log('survived');`;
    const dir = mkdtempSync(join(tmpdir(), 'cv-watchdog-'));
    const file = join(dir, 'stuck.mjs');
    writeFileSync(file, code);
    const res = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 30_000 });
    const killedAt = Date.now();
    rmSync(dir, { recursive: true, force: true });
    expect(res.signal).toBe('SIGKILL');
    expect(res.stdout).not.toContain('survived');
    expect(res.stderr).toContain('watchdog');
    // Killed well before the 5 s busy-wait ends: 300 ms limit, checked every 100 ms.
    const armedAt = Number(/armed (\d+)/.exec(res.stdout)?.[1]);
    expect(killedAt - armedAt).toBeLessThan(3000);
  });

  it('leaves fed or disarmed work alone', async () => {
    const w = new Watchdog(200);
    const disarm = w.arm();
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 100));
      w.feed();
    }
    disarm();
    await new Promise((r) => setTimeout(r, 400));
    await w.close();
    expect(true).toBe(true); // still alive: a kill would have ended the test runner
  });
});
