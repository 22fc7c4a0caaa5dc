/**
 * `clickvid admin …`: the built CLI, spawned as an operator runs it, against a real
 * API server (real Redis) listening on a port.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../packages/cli/test/run-cli.js';
import { testApp } from '../packages/server/src/internal/app.testkit.js';

const ADMIN_KEY = 'cv_admin_cli_test_0123456789abcdefghij';

let t: Awaited<ReturnType<typeof testApp>>;
let url: string;
let dir: string;
beforeAll(async () => {
  t = await testApp({ CLICKVID_ADMIN_KEY_SHA256: createHash('sha256').update(ADMIN_KEY).digest('hex') });
  url = await t.app.listen({ host: '127.0.0.1', port: 0 });
  dir = await mkdtemp(join(tmpdir(), 'cv-admin-cli-'));
});
afterAll(async () => {
  await t?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string> = { CLICKVID_ADMIN_KEY: ADMIN_KEY }) {
  return runCli(args, { cwd: dir, env: { CLICKVID_API_URL: url, XDG_CONFIG_HOME: join(dir, 'xdg'), ...env } });
}
const json = async (args: string[]) => {
  const r = await cli([...args, '--json']);
  expect(r.code, r.stderr + r.stdout).toBe(0);
  return JSON.parse(r.stdout);
};

describe('clickvid admin (built CLI)', () => {
  it('teams create|list|get|update and keys create|list|rotate|revoke, with --json', async () => {
    const team = await json(['admin', 'teams', 'create', 'trial', '--name', 'Trial', '--qualities', 'draft,standard', '--daily-gpu-seconds', '5', '--reads-per-min', '30']);
    expect(team).toMatchObject({ id: 'trial', name: 'Trial', settings: { daily_gpu_seconds: 5, allowed_qualities: ['draft', 'standard'], rate_limits: { reads_per_min: 30 } } });
    const updated = await json(['admin', 'teams', 'update', 'trial', '--daily-gpu-seconds', 'none', '--monthly-credits', '100']);
    expect(updated.settings).toMatchObject({ daily_gpu_seconds: null, monthly_credits: 100, allowed_qualities: ['draft', 'standard'] });

    const key = await json(['admin', 'keys', 'create', 'trial', '--name', 'ci']);
    expect(key).toMatchObject({ team: 'trial', name: 'ci', status: 'active' });
    expect((await t.app.inject({ url: '/v1/jobs', headers: t.auth(key.key) })).statusCode).toBe(200);
    const rotated = await json(['admin', 'keys', 'rotate', key.id, '--overlap', '0']);
    expect(rotated.replaced).toMatchObject({ id: key.id, status: 'revoked' });
    const listed = await json(['admin', 'keys', 'list', 'trial']);
    expect(listed.data.map((k: { status: string }) => k.status)).toEqual(['revoked', 'active']);
    expect(JSON.stringify(listed)).not.toContain(rotated.key.key);
    expect((await json(['admin', 'keys', 'revoke', rotated.key.id])).status).toBe('revoked');
    expect((await t.app.inject({ url: '/v1/jobs', headers: t.auth(rotated.key.key) })).statusCode).toBe(401);
  }, 240_000); // every step spawns the CLI: seconds each on a loaded machine

  it('human output shows the key once; errors carry the API code', async () => {
    const r = await cli(['admin', 'keys', 'create', 'alpha']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/key +cv_live_/);
    const missing = await cli(['admin', 'teams', 'get', 'nobody']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Error [team_not_found]');
    const list = await cli(['admin', 'teams', 'list']);
    expect(list.stdout).toMatch(/^trial +Trial +draft,standard +- +100 /m);
    const asTeam = await cli(['admin', 'teams', 'list', '--json'], { CLICKVID_ADMIN_KEY: t.keyA });
    expect(JSON.parse(asTeam.stdout).error.code).toBe('invalid_admin_key');
    const none = await cli(['admin', 'teams', 'list'], {});
    expect(none.stderr).toContain('missing_admin_key');
  }, 240_000);
});
