/**
 * The published packages as a user gets them: `npm pack` contracts, sdk and cli, install the
 * tarballs into an empty directory outside the workspace (their dependencies come from the
 * npm registry or its cache, never from this repo), then run the installed bin and an ESM and
 * a CommonJS script against a live stack. publint and arethetypeswrong lint the same tarballs.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startStack, type Stack } from './harness.js';
import { TRACE_HOOK } from './trace-modules.js';

const exec = promisify(execFile);
const PACKAGES = { contracts: '@clickvid/contracts', sdk: '@clickvid/sdk', cli: 'clickvid' } as const;
type Key = keyof typeof PACKAGES;

const tmp = mkdtempSync(path.join(realpathSync(tmpdir()), 'cv-tarballs-'));
const app = path.join(tmp, 'app');
const bin = path.join(app, 'node_modules', '.bin', 'clickvid');
const tarballs = {} as Record<Key, string>;
let stack: Stack;

/** The environment of a user's shell: none of the npm_* variables `npm test` sets for this run. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== 'INIT_CWD') env[k] = v;
  return { ...env, XDG_CONFIG_HOME: path.join(tmp, 'xdg'), NO_COLOR: '1', ...extra };
}

async function run(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  try {
    const r = await exec(cmd, args, { cwd: opts.cwd ?? app, env: userEnv(opts.env), maxBuffer: 64 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

const stackEnv = () => ({ CLICKVID_API_URL: stack.url, CLICKVID_API_KEY: stack.apiKey });

beforeAll(async () => {
  const pack = async () => {
    const workspaces = Object.values(PACKAGES).flatMap((name) => ['-w', name]);
    const r = await run('npm', ['pack', '--json', '--pack-destination', tmp, ...workspaces], { cwd: ROOT });
    if (r.code !== 0) throw new Error(`npm pack failed: ${r.stderr}`);
    const packed = JSON.parse(r.stdout) as { name: string; filename: string }[];
    for (const [key, name] of Object.entries(PACKAGES) as [Key, string][]) {
      const hit = packed.find((p) => p.name === name);
      if (!hit) throw new Error(`npm pack did not pack ${name}`);
      tarballs[key] = path.join(tmp, hit.filename);
    }
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'cv-tarball-app', version: '0.0.0', private: true }));
    const installed = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...Object.values(tarballs)]);
    if (installed.code !== 0) throw new Error(`npm install of the tarballs failed: ${installed.stderr}`);
  };
  // Packing and installing is mostly waiting on npm; the stack starts meanwhile.
  [stack] = await Promise.all([startStack(), pack()]);
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('packed tarballs', () => {
  it('pass publint (strict) and arethetypeswrong with no ignore rules', async () => {
    for (const key of Object.keys(PACKAGES) as Key[]) {
      const tarball = readFileSync(tarballs[key]);
      const { messages, pkg } = await publint({ pack: { tarball: tarball.buffer.slice(tarball.byteOffset, tarball.byteOffset + tarball.byteLength) }, strict: true });
      expect(messages.map((m) => `${key}: ${formatMessage(m, pkg, { color: false })}`)).toEqual([]);
      const attw = await run(path.join(ROOT, 'node_modules', '.bin', 'attw'), [tarballs[key], '--format', 'ascii'], { cwd: tmp });
      expect(attw.code, `${key}:\n${attw.stdout}${attw.stderr}`).toBe(0);
    }
  });

  it('install on their own: real copies, one version pinned exactly between them, metadata complete', () => {
    const manifests = Object.fromEntries(
      (Object.entries(PACKAGES) as [Key, string][]).map(([key, name]) => {
        const dir = path.join(app, 'node_modules', name);
        // A real directory inside the temp install, not a link back into the workspace.
        expect(realpathSync(dir).startsWith(app)).toBe(true);
        return [key, JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'))];
      }),
    ) as Record<Key, Record<string, any>>;
    const version = manifests.cli.version as string;
    expect(manifests.sdk.version).toBe(version);
    expect(manifests.contracts.version).toBe(version);
    expect(manifests.sdk.dependencies['@clickvid/contracts']).toBe(version);
    expect(manifests.cli.dependencies).toMatchObject({ '@clickvid/sdk': version, '@clickvid/contracts': version });
    for (const m of Object.values(manifests)) {
      for (const range of Object.values(m.dependencies as Record<string, string>)) expect(range).not.toMatch(/^(\*|workspace:|file:|link:)/);
      expect(m).toMatchObject({ license: 'MIT', engines: { node: expect.any(String) }, repository: { url: expect.any(String) } });
    }
    // The CLI ships the manifest it starts from.
    const manifest = JSON.parse(readFileSync(path.join(app, 'node_modules', 'clickvid', 'oclif.manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ version, commands: { generate: expect.any(Object) } });
  });
});

describe('the installed bin', () => {
  it('prints its version, its help and a command\'s help', async () => {
    const version = await run(bin, ['--version']);
    expect(version.stdout).toMatch(/^clickvid\/\d+\.\d+\.\d+ /);
    const help = await run(bin, ['--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/generate\s+Render a short video from a prompt/);
    const generateHelp = await run(bin, ['generate', '--help']);
    expect(generateHelp.code, generateHelp.stderr).toBe(0);
    expect(generateHelp.stdout).toContain('--wait');
  });

  it('loads no command (ours or a plugin\'s), SDK, undici, zod, ora or chalk for --version, --help and generate --help', async () => {
    const hook = path.join(tmp, 'trace.mjs');
    writeFileSync(hook, TRACE_HOOK);
    for (const args of [['--version'], ['--help'], ['generate', '--help']]) {
      const log = path.join(tmp, `trace-${args.join('-')}.txt`);
      const r = await run(process.execPath, ['--import', hook, bin, ...args], { env: { CV_TRACE: log } });
      expect(r.code, r.stderr).toBe(0);
      const loaded = readFileSync(log, 'utf8');
      expect(loaded).toContain('/node_modules/@oclif/core/'); // the trace works
      for (const heavy of ['/node_modules/undici/', '/node_modules/zod/', '/node_modules/ora/', '/node_modules/chalk/', '/node_modules/@clickvid/', '/clickvid/dist/commands/', '/plugin-autocomplete/lib/commands/']) {
        expect(loaded, `${args.join(' ')} loaded ${heavy}`).not.toContain(heavy);
      }
    }
  });

  it('generate --wait --out renders against a live stack', async () => {
    const out = path.join(tmp, 'clip.mp4');
    const r = await run(bin, ['generate', 'two red circles moving right on a blue background', '--wait', '--out', out, '--json'], { env: stackEnv() });
    expect(r.code, r.stderr).toBe(0);
    const job = JSON.parse(r.stdout) as { status: string; output: { path: string; bytes: number } };
    expect(job).toMatchObject({ status: 'succeeded', output: { path: out } });
    const bytes = readFileSync(out);
    expect(bytes.length).toBe(job.output.bytes);
    expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
  });
});

describe('the installed SDK', () => {
  const script = (kind: 'esm' | 'cjs') => `
${kind === 'esm' ? "import { Clickvid, VERSION } from '@clickvid/sdk';" : "const { Clickvid, VERSION } = require('@clickvid/sdk');"}
(async () => {
  const client = new Clickvid();
  const job = await client.generate({ prompt: 'three green squares bouncing on a white background', seed: ${kind === 'esm' ? 1 : 2} });
  const done = await client.jobs.wait(job.id, { timeoutMs: 60000 });
  const saved = await client.assets.download(done.assets.video, '${kind}.mp4');
  console.log(JSON.stringify({ version: VERSION, status: done.status, bytes: saved.bytes, entry: ${kind === 'esm' ? 'import.meta.resolve("@clickvid/sdk")' : 'require.resolve("@clickvid/sdk")'} }));
})().catch((err) => { console.error(err); process.exitCode = 1; });
`;

  for (const kind of ['esm', 'cjs'] as const) {
    it(`${kind === 'esm' ? 'an ES module imports' : 'a CommonJS script requires'} it and renders a video`, async () => {
      const file = path.join(app, kind === 'esm' ? 'render.mjs' : 'render.cjs');
      writeFileSync(file, script(kind));
      const r = await run(process.execPath, [file], { env: stackEnv() });
      expect(r.code, r.stderr).toBe(0);
      // A genuine CommonJS build behind require(): the dist/cjs entry, and nothing on stderr.
      expect(r.stderr).toBe('');
      const result = JSON.parse(r.stdout) as { version: string; status: string; bytes: number; entry: string };
      expect(result).toMatchObject({ status: 'succeeded', version: JSON.parse(readFileSync(path.join(app, 'node_modules/@clickvid/sdk/package.json'), 'utf8')).version });
      expect(result.bytes).toBeGreaterThan(0);
      expect(result.entry).toMatch(kind === 'esm' ? /\/dist\/index\.js$/ : /\/dist\/cjs\/index\.js$/);
    });
  }

  it('type-checks for TypeScript consumers with moduleResolution node16, from ESM and from CommonJS', async () => {
    // Inside the temp install, so TypeScript resolves its node_modules and never the workspace's.
    const ts = path.join(app, 'ts');
    mkdirSync(ts);
    const use = `
const client = new Clickvid({ apiKey: 'k', baseUrl: 'http://127.0.0.1:1' });
export const pending: Promise<Job> = client.jobs.retrieve('job_x');
export const isApiError = (e: unknown): e is APIError => e instanceof APIError;
export const parsed: GenerateRequest = GenerateRequest.parse({ prompt: 'a red circle' });
`;
    writeFileSync(path.join(ts, 'esm.mts'), `import { APIError, Clickvid, type Job } from '@clickvid/sdk';\nimport { GenerateRequest } from '@clickvid/contracts';\n${use}`);
    writeFileSync(path.join(ts, 'cjs.cts'), `import { APIError, Clickvid, type Job } from '@clickvid/sdk';\nimport { GenerateRequest } from '@clickvid/contracts';\n${use}`);
    writeFileSync(
      path.join(ts, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'node16', moduleResolution: 'node16', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true,
          types: ['node'], typeRoots: [path.join(ROOT, 'node_modules', '@types')],
        },
        files: ['esm.mts', 'cjs.cts'],
      }),
    );
    const r = await run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', ts], { cwd: ts });
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });
});
