/**
 * The built CLI against the real stack (server + worker + redis, as `npm start`
 * runs them): what a user types, checked from outside.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startStack, type Stack } from '../../../test/harness.js';

const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url));

let stack: Stack;
let dir: string;
beforeAll(async () => {
  stack = await startStack();
  dir = await mkdtemp(join(tmpdir(), 'cv-cli-e2e-'));
});
afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function start(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: dir,
    env: { ...process.env, CLICKVID_API_URL: stack.url, CLICKVID_API_KEY: stack.apiKey, XDG_CONFIG_HOME: join(dir, 'xdg') },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

describe('clickvid CLI against the real stack', () => {
  it('generate --wait --out --json renders, downloads and prints the job as JSON', async () => {
    const out = join(dir, 'clip.mp4');
    const r = await start(['generate', 'two red circles moving right on a blue background', '--wait', '--out', out, '--json']).done;
    expect(r.code, r.stderr).toBe(0);
    const job = JSON.parse(r.stdout) as { id: string; status: string; prompt: string; usage: { gpu_seconds: number }; assets: { video: string }; output: { path: string; bytes: number; asset_id: string } };
    expect(job).toMatchObject({ status: 'succeeded', prompt: 'two red circles moving right on a blue background', output: { path: out } });
    expect(job.usage.gpu_seconds).toBeGreaterThan(0);
    const bytes = await readFile(out);
    expect(bytes.length).toBe(job.output.bytes);
    expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
    const asset = (await api(stack, 'GET', `/v1/assets/${job.assets.video}`)).body as { bytes: number };
    expect(asset.bytes).toBe(bytes.length);
  });

  it('a prompt the model cannot read exits 1 with the code, the hint and the known words', async () => {
    const r = await start(['generate', 'a cinematic sunset over the ocean']).done;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Error [prompt_not_understood]');
    expect(r.stderr).toMatch(/Known words: .*circle.*square.*triangle/);
    expect(r.stdout).toBe('');
  });

  it('prompts check shows how the model reads a prompt, and exits 1 when a submit would be refused', async () => {
    const ok = await start(['prompts', 'check', 'On a white background, two grey circles moving up', '--json']).done;
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ object: 'prompt_check', normalized: 'on a white background two gray circle moving up', unknown: [], refused: false });
    const cat = await start(['prompts', 'check', 'a cat on a red sofa']).done;
    expect(cat.code).toBe(1);
    expect(cat.stdout).toContain('unknown   cat, sofa');
    expect(cat.stderr).toMatch(/would be refused \[prompt_not_understood\]: .*"a cat"/);
    expect(cat.stderr).toMatch(/Known words: .*circle/);
  });

  it('batch killed with SIGKILL halfway and resumed renders every row exactly once', async () => {
    const campaign = `e2e-${randomBytes(4).toString('hex')}`;
    const shapes = ['red circles', 'blue squares', 'green circle', 'yellow square', 'red square', 'blue circle', 'green squares', 'yellow circles'];
    const manifest = join(dir, 'campaign.jsonl');
    await writeFile(manifest, shapes.map((s, i) => JSON.stringify({ prompt: `${s} moving right`, seed: i, name: `shot-${i}`, metadata: { campaign } })).join('\n'));
    const outDir = join(dir, 'renders');
    const stateFile = join(outDir, '.clickvid-batch.json');

    const first = start(['batch', manifest, '--out-dir', outDir, '--concurrency', '2']);
    // Kill it once some rows are done and others are not.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const state = await readFile(stateFile, 'utf8').then((t) => JSON.parse(t) as { rows: { status: string }[] }, () => undefined);
      const downloaded = state?.rows.filter((r) => r.status === 'downloaded').length ?? 0;
      if (downloaded >= 2) {
        expect(downloaded).toBeLessThan(shapes.length);
        break;
      }
      if (Date.now() > deadline) throw new Error('the batch made no progress in 60 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');

    const second = await start(['batch', manifest, '--out-dir', outDir, '--concurrency', '2', '--resume', '--report', join(dir, 'summary.json'), '--json']).done;
    expect(second.code, second.stderr).toBe(0);
    const summary = JSON.parse(second.stdout) as { ok: number; rows: { job_id: string; file: string }[] };
    expect(summary.ok).toBe(shapes.length);
    for (const row of summary.rows) expect((await readFile(join(outDir, row.file))).subarray(4, 8).toString('latin1')).toBe('ftyp');

    const listed = (await api(stack, 'GET', `/v1/jobs?campaign=${campaign}&limit=100`)).body as { data: { id: string; prompt: string }[] };
    expect(listed.data).toHaveLength(shapes.length);
    expect(new Set(listed.data.map((j) => j.prompt)).size).toBe(shapes.length);
    expect(new Set(listed.data.map((j) => j.id))).toEqual(new Set(summary.rows.map((r) => r.job_id)));
  }, 180_000);
});
