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

  it('resolves each field on its own and defaults the URL', async () => {
    await profile({ apiKey: 'profile-key' });
    const cfg = await resolveConfig({ cwd: root, home, flags: {}, env: { CLICKVID_API_URL: 'http://env:4' } });
    expect(cfg).toMatchObject({ url: 'http://env:4', apiKey: 'profile-key', sources: { url: 'env', apiKey: 'profile' } });
    const only = await resolveConfig({ cwd: root, home, flags: { apiKey: 'k' }, env: {} });
    expect(only).toMatchObject({ url: 'http://127.0.0.1:8080', sources: { url: 'default' } });
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
      message: expect.stringMatching(/--api-key.*CLICKVID_API_KEY.*dev\.json.*config\.json/s),
    });
    await writeFile(join(home, '.config', 'clickvid', 'config.json'), '{nope');
    await expect(resolveConfig({ cwd: root, home, flags: {}, env: {} })).rejects.toMatchObject({ code: 'invalid_config' });
  });
});
