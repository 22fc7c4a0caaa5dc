import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from './config.js';

let root: string;
let home: string;
let deep: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'cv-config-'));
  home = join(root, 'home');
  deep = join(root, 'repo', 'packages', 'x');
  await mkdir(deep, { recursive: true });
  await mkdir(join(home, '.config', 'clickvid'), { recursive: true });
});
afterEach(() => rm(root, { recursive: true, force: true }));

const devJson = (url: string, apiKey: string) =>
  mkdir(join(root, 'repo', '.clickvid'), { recursive: true }).then(() =>
    writeFile(join(root, 'repo', '.clickvid', 'dev.json'), JSON.stringify({ url, apiKey, webhookSecret: 'whsec_x' })));
const profile = (body: unknown) => writeFile(join(home, '.config', 'clickvid', 'config.json'), JSON.stringify(body));

describe('resolveConfig', () => {
  it('prefers flags, then env, then dev.json found in a parent, then the profile', async () => {
    await devJson('http://dev:1', 'dev-key');
    await profile({ url: 'http://profile:2', apiKey: 'profile-key' });
    const base = { cwd: deep, home };

    expect(await resolveConfig({ ...base, flags: { apiUrl: 'http://flag:3', apiKey: 'flag-key' }, env: { CLICKVID_API_KEY: 'env-key' } }))
      .toMatchObject({ url: 'http://flag:3', apiKey: 'flag-key', sources: { url: 'flag', apiKey: 'flag' } });
    expect(await resolveConfig({ ...base, flags: {}, env: { CLICKVID_API_URL: 'http://env:4', CLICKVID_API_KEY: 'env-key' } }))
      .toMatchObject({ url: 'http://env:4', apiKey: 'env-key', sources: { url: 'env', apiKey: 'env' } });
    expect(await resolveConfig({ ...base, flags: {}, env: {} }))
      .toMatchObject({ url: 'http://dev:1', apiKey: 'dev-key', sources: { url: 'dev.json', apiKey: 'dev.json' } });
    expect(await resolveConfig({ cwd: root, home, flags: {}, env: {} }))
      .toMatchObject({ url: 'http://profile:2', apiKey: 'profile-key', sources: { url: 'profile', apiKey: 'profile' } });
  });

  it('sends a stored key only to its own URL, and a typed key only to a typed URL or the default', async () => {
    await profile({ apiKey: 'profile-key' });
    // A profile without a URL holds a key for the default URL.
    expect(await resolveConfig({ cwd: root, home, flags: {}, env: {} }))
      .toMatchObject({ url: 'http://127.0.0.1:8080', apiKey: 'profile-key', sources: { url: 'default', apiKey: 'profile' } });
    await expect(resolveConfig({ cwd: root, home, flags: {}, env: { CLICKVID_API_URL: 'http://env:4' } }))
      .rejects.toMatchObject({ code: 'missing_api_key', message: expect.stringContaining('belongs to http://127.0.0.1:8080, not http://env:4') });
    expect(await resolveConfig({ cwd: root, home, flags: { apiKey: 'k' }, env: {} }))
      .toMatchObject({ url: 'http://127.0.0.1:8080', apiKey: 'k', sources: { url: 'default', apiKey: 'flag' } });
    // A key in the environment does not follow a URL that a dev.json names.
    await mkdir(join(root, 'repo', '.clickvid'), { recursive: true });
    await writeFile(join(root, 'repo', '.clickvid', 'dev.json'), JSON.stringify({ url: 'http://dev:1' }));
    await expect(resolveConfig({ cwd: deep, home, flags: {}, env: { CLICKVID_API_KEY: 'env-key' } }))
      .rejects.toMatchObject({ code: 'missing_api_key', message: expect.stringContaining('CLICKVID_API_KEY is not sent to a URL read from a file') });
    // Trailing slashes and host case do not make another URL.
    await profile({ url: 'HTTPS://API.example.com/', apiKey: 'p' });
    expect((await resolveConfig({ cwd: root, home, flags: { apiUrl: 'https://api.example.com' }, env: {} })).apiKey).toBe('p');
  });

  it('reads named profiles, picked by --profile or CLICKVID_PROFILE, and refuses an unknown one', async () => {
    await profile({ profiles: { default: { url: 'http://prod:1', apiKey: 'prod-key' }, staging: { url: 'http://staging:2', apiKey: 'staging-key' } } });
    expect(await resolveConfig({ cwd: root, home, flags: {}, env: {} })).toMatchObject({ url: 'http://prod:1', apiKey: 'prod-key', profile: 'default' });
    expect(await resolveConfig({ cwd: root, home, flags: {}, env: { CLICKVID_PROFILE: 'staging' } })).toMatchObject({ url: 'http://staging:2', apiKey: 'staging-key' });
    // --profile is a flag: it outranks the environment's URL and key.
    expect(await resolveConfig({ cwd: root, home, flags: { profile: 'staging' }, env: { CLICKVID_API_URL: 'http://env:4', CLICKVID_API_KEY: 'e' } }))
      .toMatchObject({ url: 'http://staging:2', apiKey: 'staging-key', sources: { url: 'profile', apiKey: 'profile' } });
    await expect(resolveConfig({ cwd: root, home, flags: { profile: 'nope' }, env: {} }))
      .rejects.toMatchObject({ code: 'unknown_profile', message: expect.stringContaining('default, staging') });
  });

  it('honours XDG_CONFIG_HOME for the profile', async () => {
    const xdg = join(root, 'xdg');
    await mkdir(join(xdg, 'clickvid'), { recursive: true });
    await writeFile(join(xdg, 'clickvid', 'config.json'), JSON.stringify({ apiKey: 'xdg-key' }));
    expect((await resolveConfig({ cwd: root, home, flags: {}, env: { XDG_CONFIG_HOME: xdg } })).apiKey).toBe('xdg-key');
  });

  it('fails with missing_api_key naming every source, and invalid_config on broken JSON', async () => {
    await expect(resolveConfig({ cwd: root, home, flags: {}, env: {} })).rejects.toMatchObject({
      code: 'missing_api_key',
      message: expect.stringMatching(/clickvid login.*config\.json.*--api-key.*CLICKVID_API_KEY.*dev\.json/s),
    });
    await writeFile(join(home, '.config', 'clickvid', 'config.json'), '{nope');
    await expect(resolveConfig({ cwd: root, home, flags: {}, env: {} })).rejects.toMatchObject({ code: 'invalid_config' });
  });

  it('never sends the profile\'s key to a URL that a dev.json in a parent directory names', async () => {
    await profile({ url: 'https://api.clickvid.example', apiKey: 'profile-key' });
    await mkdir(join(root, 'repo', '.clickvid'), { recursive: true });
    await writeFile(join(root, 'repo', '.clickvid', 'dev.json'), JSON.stringify({ url: 'http://attacker.example:8080' }));
    const resolved = resolveConfig({ cwd: deep, home, flags: {}, env: {} });
    await expect(resolved).rejects.toMatchObject({ code: 'missing_api_key', message: expect.stringContaining('https://api.clickvid.example') });
  });
});
