/**
 * The built CLI, spawned as a user runs it, against the in-memory fake API.
 * (End-to-end runs against the real stack live in cli.e2e.test.ts.)
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeStack, VIDEO_BYTES, type FakeStack } from '../test/fake-stack.js';
import { CLI_BIN, runCli, type CliRun } from '../test/run-cli.js';


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

function cli(args: string[], env: Record<string, string> = {}, cwd = dir): Promise<CliRun> {
  const base = { CLICKVID_API_URL: stack.url, CLICKVID_API_KEY: stack.apiKey, XDG_CONFIG_HOME: join(dir, 'xdg'), XDG_CACHE_HOME: join(dir, 'cache') };
  return runCli(args, { cwd, env: { ...base, ...env } });
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

  it('does not send the profile\'s key to the host a parent directory\'s dev.json names', async () => {
    const project = join(dir, 'untrusted', 'project');
    await mkdir(join(dir, 'untrusted', '.clickvid'), { recursive: true });
    await mkdir(project, { recursive: true });
    // The dev.json names only a URL (the fake API, which would accept the key); the profile's key is stored for another host.
    await writeFile(join(dir, 'untrusted', '.clickvid', 'dev.json'), JSON.stringify({ url: stack.url }));
    await mkdir(join(dir, 'xdg', 'clickvid'), { recursive: true });
    await writeFile(join(dir, 'xdg', 'clickvid', 'config.json'), JSON.stringify({ url: 'https://api.clickvid.example', apiKey: stack.apiKey }));
    const r = await cli(['models', '--json'], { CLICKVID_API_KEY: '', CLICKVID_API_URL: '' }, project);
    await rm(join(dir, 'xdg', 'clickvid', 'config.json'));
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'missing_api_key', message: expect.stringContaining('belongs to https://api.clickvid.example') } });
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

  it('login checks the key against the URL and stores the pair, 0600; a wrong key stores nothing', async () => {
    const xdg = join(dir, 'xdg-login');
    const env = { XDG_CONFIG_HOME: xdg, CLICKVID_API_KEY: '', CLICKVID_API_URL: '' };
    const bad = await cli(['login', '--api-url', stack.url, '--api-key', 'sk_wrong', '--json'], env);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ error: { code: 'invalid_api_key', status: 401 } });
    expect(existsSync(join(xdg, 'clickvid', 'config.json'))).toBe(false);

    const ok = await cli(['login', '--api-url', stack.url, '--api-key', stack.apiKey, '--profile', 'local', '--json'], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ profile: 'local', url: stack.url });
    const file = join(xdg, 'clickvid', 'config.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ profiles: { local: { url: stack.url, apiKey: stack.apiKey } } });
    // The stored pair is used, with nothing in the environment.
    const models = await cli(['models', '--json', '--profile', 'local'], env);
    expect(models.code, models.stderr).toBe(0);
    expect(JSON.parse(models.stdout)).toMatchObject({ object: 'list' });
  });

  it('config set, get and list a profile; a key is not moved to another URL', async () => {
    const env = { XDG_CONFIG_HOME: join(dir, 'xdg-config'), CLICKVID_API_KEY: '', CLICKVID_API_URL: '' };
    expect((await cli(['config', 'set', 'url', stack.url, '--profile', 'p'], env)).code).toBe(0);
    expect((await cli(['config', 'set', 'api-key', stack.apiKey, '--profile', 'p'], env)).code).toBe(0);
    const get = await cli(['config', 'get', 'api-key', '--profile', 'p', '--json'], env);
    expect(JSON.parse(get.stdout)).toMatchObject({ profile: 'p', key: 'api-key' });
    expect(JSON.parse(get.stdout).value).not.toContain(stack.apiKey); // masked
    const reveal = await cli(['config', 'get', 'api-key', '--reveal', '--profile', 'p'], env);
    expect(reveal.stdout.trim()).toBe(stack.apiKey);
    const moved = await cli(['config', 'set', 'url', 'http://elsewhere.example', '--profile', 'p', '--json'], env);
    expect(moved.code).toBe(1);
    expect(JSON.parse(moved.stdout)).toMatchObject({ error: { code: 'key_bound_to_url' } });
    const list = await cli(['config', 'list', '--profile', 'p', '--json'], env);
    expect(JSON.parse(list.stdout)).toMatchObject({ profile: 'p', url: stack.url, url_source: 'profile', api_key_source: 'profile', profiles: [{ name: 'p', url: stack.url }] });
  });

  it('colours only when asked or on a terminal: --no-color and NO_COLOR beat FORCE_COLOR', async () => {
    const ESC = '\u001b[';
    const plainRun = await cli(['jobs', 'list']);
    expect(plainRun.code, plainRun.stderr).toBe(0);
    expect(plainRun.stdout).not.toContain(ESC);
    const forced = await cli(['jobs', 'list'], { FORCE_COLOR: '1' });
    expect(forced.stdout).toContain(ESC);
    expect((await cli(['jobs', 'list', '--no-color'], { FORCE_COLOR: '1' })).stdout).not.toContain(ESC);
    expect((await cli(['jobs', 'list'], { FORCE_COLOR: '1', NO_COLOR: '1' })).stdout).not.toContain(ESC);
    expect((await cli(['jobs', 'list', '--json'], { FORCE_COLOR: '1' })).stdout).not.toContain(ESC);
  });

  it('shows a spinner on a terminal and none without one', async () => {
    const piped = await cli(['generate', 'red circle', '--wait', '--out', join(dir, 'piped.mp4')]);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stderr).toBe('');
    // On a pseudo-terminal (script(1)) the same command draws one on stderr.
    // A fresh pty reports 0 columns, and the CLI draws no spinner on a terminal of unknown width.
    const cmd = ['stty cols 100 rows 30;', process.execPath, CLI_BIN, 'generate', "'red circle'", '--wait', '--out', join(dir, 'tty.mp4')].join(' ');
    // Not spawnSync: the fake API answers from this process's event loop.
    const tty = await new Promise<{ status: number | null; stdout: string }>((resolve, reject) => {
      const child = spawn('script', ['-qec', cmd, '/dev/null'], {
        cwd: dir, stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, CLICKVID_API_URL: stack.url, CLICKVID_API_KEY: stack.apiKey, XDG_CONFIG_HOME: join(dir, 'xdg'), COLUMNS: '100', TERM: 'xterm' },
      });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout }));
    });
    expect(tty.status, tty.stdout).toBe(0);
    expect(tty.stdout).toMatch(/✔|√/);
  });

  it('offers shell completion through the autocomplete plugin', async () => {
    const r = await cli(['autocomplete', 'script', 'bash']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('CLICKVID_AC_BASH_SETUP_PATH');
  });
});
