import type { TeamSettings } from '@clickvid/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisHandle } from '../../../test/harness.js';
import { keys } from './keys.js';
import { createRedis, type Redis } from './redis.js';
import { hashApiKey, TeamStore, TeamStoreError } from './teams.js';

const DEFAULTS: TeamSettings = {
  daily_gpu_seconds: null,
  monthly_credits: null,
  rate_limits: { creates_per_min: 600, reads_per_min: 1200 },
  allowed_qualities: ['draft', 'standard', 'final'],
};

let rh: RedisHandle;
let redis: Redis;
let teams: TeamStore;

beforeAll(async () => {
  rh = await startRedis();
  redis = createRedis(rh.url);
  teams = new TeamStore(redis, DEFAULTS);
});
afterAll(async () => {
  redis.disconnect();
  await rh.stop();
});

describe('TeamStore', () => {
  it('a revoked bootstrap key stays revoked when the bootstrap runs again (restart)', async () => {
    const bootstrapKey = 'cv_dev_bootstrap_key_for_this_test_0001';
    await teams.ensureTeam('dev');
    await teams.addApiKey('dev', bootstrapKey, 'bootstrap');
    const auth = await teams.authenticate(bootstrapKey);
    expect(auth?.team.id).toBe('dev');
    await teams.revokeKey(auth!.keyId);
    expect(await teams.authenticate(bootstrapKey)).toBeNull();
    // What every server start does with CLICKVID_BOOTSTRAP_API_KEY:
    await teams.ensureTeam('dev');
    await teams.addApiKey('dev', bootstrapKey, 'bootstrap');
    expect(await teams.authenticate(bootstrapKey)).toBeNull();
    expect((await teams.getKey(auth!.keyId))?.status).toBe('revoked');
  });

  it('issues named keys, shown once, stored hashed and indexed per team', async () => {
    await teams.createTeam('acme', { name: 'Acme' });
    const a = await teams.createKey('acme', 'ci');
    const b = await teams.createKey('acme', 'laptop');
    expect(a.key).toMatch(/^cv_live_[A-Za-z0-9_-]{43}$/);
    expect(a.record).toMatchObject({ team: 'acme', name: 'ci', status: 'active', last_used_at: null, revoked_at: null, prefix: a.key.slice(0, 12) });
    expect(JSON.stringify(await redis.hgetall(keys.apiKey(hashApiKey(a.key))))).not.toContain(a.key);
    expect((await teams.listKeys('acme')).map((k) => k.name)).toEqual(['ci', 'laptop']);
    expect((await teams.listKeys('acme')).every((k) => !JSON.stringify(k).includes(b.key.slice(12)))).toBe(true);
    await expect(teams.createKey('nobody')).rejects.toMatchObject({ code: 'team_not_found' });
    await expect(teams.createTeam('acme')).rejects.toBeInstanceOf(TeamStoreError);
  });

  it('writes last_used_at in batches, never for unknown keys', async () => {
    const { key, record } = await teams.createKey('acme', 'touch');
    const at = Date.parse('2026-11-29T12:00:00Z');
    await teams.touchKeys(new Map([[hashApiKey(key), at], [hashApiKey('cv_live_unknown'), at]]));
    expect((await teams.getKey(record.id))?.last_used_at).toBe('2026-11-29T12:00:00.000Z');
    expect(await redis.exists(keys.apiKey(hashApiKey('cv_live_unknown')))).toBe(0);
  });

  it('rotate issues a new key and retires the old one after the overlap', async () => {
    const { key: oldKey, record } = await teams.createKey('acme', 'rotating');
    const r = await teams.rotateKey(record.id, 1);
    expect(r.record).toMatchObject({ team: 'acme', name: 'rotating', status: 'active' });
    expect(r.replaced.status).toBe('expiring');
    expect(await teams.authenticate(oldKey)).not.toBeNull();
    expect((await teams.authenticate(r.key))?.team.id).toBe('acme');
    await new Promise((res) => setTimeout(res, 1100));
    expect(await teams.authenticate(oldKey)).toBeNull();
    expect((await teams.getKey(record.id))?.status).toBe('revoked');
    // Without overlap the old key is revoked at once; a revoked key cannot be rotated.
    const now = await teams.rotateKey(r.record.id, 0);
    expect(now.replaced.status).toBe('revoked');
    expect(await teams.authenticate(r.key)).toBeNull();
    await expect(teams.rotateKey(r.record.id)).rejects.toMatchObject({ code: 'api_key_revoked' });
  });

  it('settings are overrides over the defaults; updates merge and publish an eviction', async () => {
    const free = await teams.createTeam('free', { settings: { daily_gpu_seconds: 5, allowed_qualities: ['draft', 'standard'], rate_limits: { creates_per_min: 10 } } });
    expect(free.settings).toEqual({ daily_gpu_seconds: 5, monthly_credits: null, rate_limits: { creates_per_min: 10, reads_per_min: 1200 }, allowed_qualities: ['draft', 'standard'] });
    const sub = createRedis(rh.url);
    const got: string[] = [];
    await sub.subscribe(keys.authEvents());
    sub.on('message', (_c: string, m: string) => got.push(m));
    const after = await teams.updateTeam('free', { settings: { rate_limits: { reads_per_min: 50 }, monthly_credits: 100 } });
    expect(after.settings).toMatchObject({ daily_gpu_seconds: 5, monthly_credits: 100, rate_limits: { creates_per_min: 10, reads_per_min: 50 } });
    await expect.poll(() => got).toEqual(['team:free']);
    sub.disconnect();
    expect((await teams.listTeams()).map((t) => t.id)).toEqual(['dev', 'acme', 'free']);
  });
});
