/**
 * The built CLI, spawned as a user runs it, against the in-memory fake API.
 * (End-to-end runs against the real stack live in cli.e2e.test.ts.)
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeStack, VIDEO_BYTES, type FakeStack } from '../test/fake-stack.js';

const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url));

let stack: FakeStack;
let dir: string;
beforeAll(async () => {
  stack = await startFakeStack({ renderMs: 20 });
  dir = await mkdtemp(join(tmpdir(), 'cv-cli-'));
});
afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: dir,
      env: { ...process.env, CLICKVID_API_URL: stack.url, CLICKVID_API_KEY: stack.apiKey, XDG_CONFIG_HOME: join(dir, 'xdg'), ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('clickvid CLI (built by the global setup)', () => {
  it('generate --wait --out --json prints only the job JSON and writes the file', async () => {
    const out = join(dir, 'clip.mp4');
    const r = await cli(['generate', 'two red circles', '--quality', 'draft', '--seed', '3', '--metadata', 'campaign=cli', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const job = JSON.parse(r.stdout) as { id: string; status: string; metadata: Record<string, string>; output: { path: string; bytes: number } };
    expect(job).toMatchObject({ status: 'succeeded', metadata: { campaign: 'cli' }, output: { path: out, bytes: VIDEO_BYTES.length } });
    expect(await readFile(out)).toEqual(VIDEO_BYTES);
    expect(stack.generateCalls.at(-1)!.body).toEqual({ prompt: 'two red circles', quality: 'draft', seed: 3, metadata: { campaign: 'cli' } });
  });

  it('prints errors with their code, as JSON with --json, and exits non-zero', async () => {
    const human = await cli(['jobs', 'get', 'job_missing0000']);
    expect(human.code).toBe(1);
    expect(human.stderr).toContain('Error [job_not_found]:');
    const json = await cli(['jobs', 'get', 'job_missing0000', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'job_not_found', status: 404, request_id: 'req_fake' } });
    const noKey = await cli(['models', '--json'], { CLICKVID_API_KEY: '' });
    expect(JSON.parse(noKey.stdout)).toMatchObject({ error: { code: 'missing_api_key' } });
  });

  it('finds .clickvid/dev.json in a parent directory', async () => {
    await import('node:fs/promises').then((fs) => fs.mkdir(join(dir, '.clickvid'), { recursive: true }));
    await writeFile(join(dir, '.clickvid', 'dev.json'), JSON.stringify({ url: stack.url, apiKey: stack.apiKey }));
    const r = await cli(['models', '--json'], { CLICKVID_API_KEY: '', CLICKVID_API_URL: '' });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ object: 'list' });
  });

  it('batch writes plain progress lines without a TTY, a JUnit report, and exits 1 when a row fails', async () => {
    const manifest = join(dir, 'm.csv');
    await writeFile(manifest, 'prompt,name,metadata.campaign\nred circle,red,b1\nFAIL blue,blue,b1\n');
    const r = await cli(['batch', manifest, '--out-dir', join(dir, 'renders'), '--report', join(dir, 'junit.xml')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\[\d\/2\] ok red\.mp4 \(\d+\.\ds, 0\.004 gpu-s\)/);
    expect(r.stdout).toMatch(/\[\d\/2\] failed blue\.mp4 \[inference_failed\]/);
    expect(r.stderr).toContain('Error [batch_failed]');
    expect(await readFile(join(dir, 'junit.xml'), 'utf8')).toContain('failures="1"');
  });
});
