import { createHash } from 'node:crypto';
import { ApiKeyRotation, ApiKeyWithSecret, ErrorBody, Job, Team } from '@clickvid/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from './internal/app.testkit.js';

const ADMIN_KEY = 'cv_admin_test_key_0123456789abcdef';
const PROMPT = 'two red circles moving right on a blue background';

let t: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  t = await testApp({ CLICKVID_ADMIN_KEY_SHA256: createHash('sha256').update(ADMIN_KEY).digest('hex'), CLICKVID_RATE_LIMIT_UNAUTH_PER_MIN: '5' });
});
afterAll(async () => t.close());

const admin = (method: 'GET' | 'POST', url: string, payload?: object, key = ADMIN_KEY) =>
  t.app.inject({ method, url, headers: t.auth(key), ...(payload ? { payload } : {}) });
const errorOf = (res: { json(): unknown }) => ErrorBody.parse(res.json()).error;
const gen = (key: string, body: object) => t.app.inject({ method: 'POST', url: '/v1/generate', headers: t.auth(key), payload: body });

describe('/v1/admin', () => {
  it('takes admin keys only: a team key is refused, and an admin key is no team key', async () => {
    const asTeam = await admin('GET', '/v1/admin/teams', undefined, t.keyA);
    expect(asTeam.statusCode).toBe(401);
    expect(errorOf(asTeam).code).toBe('invalid_admin_key');
    expect(errorOf(await t.app.inject({ url: '/v1/admin/teams' })).code).toBe('missing_api_key');
    const asAdmin = await t.app.inject({ url: '/v1/jobs', headers: t.auth(ADMIN_KEY) });
    expect(errorOf(asAdmin).code).toBe('invalid_api_key');
  });

  it('creates, lists, gets and updates teams; unknown ones are 404, duplicates 409', async () => {
    const res = await admin('POST', '/v1/admin/teams', { id: 'studio', name: 'Studio', settings: { monthly_credits: 500 } });
    expect(res.statusCode).toBe(201);
    const team = Team.parse(res.json());
    expect(team.settings).toMatchObject({ monthly_credits: 500, allowed_qualities: ['draft', 'standard', 'final'] });
    expect(team.webhook_secret).toMatch(/^whsec_/);
    expect(errorOf(await admin('POST', '/v1/admin/teams', { id: 'studio' })).code).toBe('team_exists');
    expect(errorOf(await admin('POST', '/v1/admin/teams', { id: 'Bad Id' })).code).toBe('validation_failed');
    expect(errorOf(await admin('GET', '/v1/admin/teams/nobody')).code).toBe('team_not_found');
    const list = (await admin('GET', '/v1/admin/teams')).json();
    expect(list.data.map((x: Team) => x.id)).toEqual(expect.arrayContaining(['alpha', 'beta', 'studio']));
    const upd = await admin('POST', '/v1/admin/teams/studio', { name: 'Studio B', settings: { rate_limits: { reads_per_min: 99 } } });
    expect(Team.parse(upd.json())).toMatchObject({ name: 'Studio B', settings: { monthly_credits: 500, rate_limits: { reads_per_min: 99 } } });
    expect(Team.parse((await admin('GET', '/v1/admin/teams/studio')).json()).name).toBe('Studio B');
  });

  it('a free tier drafts, is refused finals with quality_not_allowed, hits its quota, and sees only its own jobs', async () => {
    await admin('POST', '/v1/admin/teams', { id: 'free', settings: { daily_gpu_seconds: 0.05, allowed_qualities: ['draft', 'standard'] } });
    const created = await admin('POST', '/v1/admin/teams/free/keys', { name: 'trial' });
    expect(created.statusCode).toBe(201);
    const key = ApiKeyWithSecret.parse(created.json());
    expect(key).toMatchObject({ team: 'free', name: 'trial', status: 'active' });
    // The secret is in that answer only.
    expect(JSON.stringify((await admin('GET', '/v1/admin/teams/free/keys')).json())).not.toContain(key.key);

    const draft = await gen(key.key, { prompt: PROMPT });
    expect(draft.statusCode).toBe(202);
    const final = await gen(key.key, { prompt: PROMPT, quality: 'final' });
    expect(final.statusCode).toBe(403);
    expect(errorOf(final)).toMatchObject({ code: 'quality_not_allowed', param: 'quality', details: { allowed_qualities: ['draft', 'standard'] } });
    const promote = await t.app.inject({ method: 'POST', url: `/v1/jobs/${Job.parse(draft.json()).id}/promote`, headers: t.auth(key.key), payload: { quality: 'final' } });
    expect(errorOf(promote).code).toBe('quality_not_allowed');

    // Usage as the worker records it; the next draft would pass the day's quota.
    await t.deps.ledger.record('free', 'draft', null, 0.05, 0.5);
    const over = await gen(key.key, { prompt: PROMPT });
    expect(over.statusCode).toBe(429);
    expect(errorOf(over).code).toBe('quota_exceeded');
    expect((await t.app.inject({ url: '/v1/usage', headers: t.auth(key.key) })).json().quota.gpu_seconds_per_day).toBe(0.05);

    const alphaJob = Job.parse((await gen(t.keyA, { prompt: PROMPT })).json());
    expect(errorOf(await t.app.inject({ url: `/v1/jobs/${alphaJob.id}`, headers: t.auth(key.key) })).code).toBe('job_not_found');
    const own = (await t.app.inject({ url: '/v1/jobs', headers: t.auth(key.key) })).json();
    expect(own.data.map((j: Job) => j.id)).toEqual([Job.parse(draft.json()).id]);
  });

  it('a monthly credit budget refuses the job that would pass it with budget_exceeded', async () => {
    await admin('POST', '/v1/admin/teams', { id: 'budget', settings: { monthly_credits: 1 } });
    const kr = await admin('POST', '/v1/admin/teams/budget/keys');
    const key = ApiKeyWithSecret.parse(kr.json()).key;
    await t.deps.ledger.record('budget', 'draft', null, 0.1, 1);
    const res = await gen(key, { prompt: PROMPT });
    expect(res.statusCode).toBe(429);
    expect(errorOf(res).code).toBe('budget_exceeded');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('revoke refuses the key at once, though it was cached; settings changes apply at once', async () => {
    await admin('POST', '/v1/admin/teams', { id: 'revokes' });
    const key = ApiKeyWithSecret.parse((await admin('POST', '/v1/admin/teams/revokes/keys')).json());
    expect((await t.app.inject({ url: '/v1/jobs', headers: t.auth(key.key) })).statusCode).toBe(200);
    await admin('POST', '/v1/admin/teams/revokes', { settings: { allowed_qualities: ['draft'] } });
    await expect.poll(async () => (await gen(key.key, { prompt: PROMPT, quality: 'standard' })).statusCode, { timeout: 2000 }).toBe(403);
    const revoked = await admin('POST', `/v1/admin/keys/${key.id}/revoke`);
    expect(revoked.json()).toMatchObject({ status: 'revoked' });
    await expect.poll(async () => (await t.app.inject({ url: '/v1/jobs', headers: t.auth(key.key) })).statusCode, { timeout: 2000 }).toBe(401);
    expect(errorOf(await admin('POST', `/v1/admin/keys/${key.id}/rotate`)).code).toBe('api_key_revoked');
    expect(errorOf(await admin('POST', '/v1/admin/keys/key_0000000000nothere/revoke')).code).toBe('api_key_not_found');
  });

  it('rotate issues a new key and keeps the old one for the overlap', async () => {
    await admin('POST', '/v1/admin/teams', { id: 'rotates' });
    const old = ApiKeyWithSecret.parse((await admin('POST', '/v1/admin/teams/rotates/keys', { name: 'ci' })).json());
    const r = ApiKeyRotation.parse((await admin('POST', `/v1/admin/keys/${old.id}/rotate`, { overlap_s: 60 })).json());
    expect(r.key).toMatchObject({ team: 'rotates', name: 'ci', status: 'active' });
    expect(r.replaced).toMatchObject({ id: old.id, status: 'expiring' });
    for (const k of [old.key, r.key.key]) expect((await t.app.inject({ url: '/v1/jobs', headers: t.auth(k) })).statusCode).toBe(200);
  });

  it('rate limits per key in Redis, creates and reads apart, with RateLimit-* headers', async () => {
    await admin('POST', '/v1/admin/teams', { id: 'limited', settings: { rate_limits: { creates_per_min: 2, reads_per_min: 3 } } });
    const key = ApiKeyWithSecret.parse((await admin('POST', '/v1/admin/teams/limited/keys')).json()).key;
    const reads = [];
    for (let i = 0; i < 4; i++) reads.push(await t.app.inject({ url: '/v1/models', headers: t.auth(key) }));
    expect(reads.map((r) => r.statusCode)).toEqual([200, 200, 200, 429]);
    expect(reads[0]!.headers).toMatchObject({ 'ratelimit-limit': '3', 'ratelimit-remaining': '2' });
    expect(Number(reads[0]!.headers['ratelimit-reset'])).toBeGreaterThan(0);
    expect(errorOf(reads[3]!).code).toBe('rate_limited');
    expect(Number(reads[3]!.headers['retry-after'])).toBeGreaterThan(0);
    // Creates have their own budget.
    const creates = [];
    for (let i = 0; i < 3; i++) creates.push((await gen(key, { prompt: PROMPT })).statusCode);
    expect(creates).toEqual([202, 202, 429]);
    expect(await t.deps.redis.keys('cv:rl:*')).not.toHaveLength(0);
  });

  it('limits failed authentications per address', async () => {
    const codes = [];
    for (let i = 0; i < 7; i++) {
      codes.push((await t.app.inject({ url: '/v1/jobs', headers: { ...t.auth(`cv_live_guess${i}`), 'x-forwarded-for': '203.0.113.9' } })).statusCode);
    }
    expect(codes).toEqual([401, 401, 401, 401, 401, 429, 429]);
    // Another address, and valid keys, are unaffected.
    expect((await t.app.inject({ url: '/v1/jobs', headers: { ...t.auth('cv_live_other'), 'x-forwarded-for': '203.0.113.10' } })).statusCode).toBe(401);
    expect((await t.app.inject({ url: '/v1/jobs', headers: { ...t.auth(t.keyB), 'x-forwarded-for': '203.0.113.9' } })).statusCode).toBe(200);
  });

  it('a client that is no trusted proxy cannot pick its address to dodge the limit', async () => {
    const codes = [];
    for (let i = 0; i < 7; i++) {
      const res = await t.app.inject({ url: '/v1/jobs', remoteAddress: '198.51.100.7', headers: { ...t.auth(`cv_live_guess${i}`), 'x-forwarded-for': `192.0.2.${i}` } });
      codes.push(res.statusCode);
    }
    expect(codes).toEqual([401, 401, 401, 401, 401, 429, 429]);
  });

  it('limits signed asset downloads per address', async () => {
    const r = await testApp({ CLICKVID_RATE_LIMIT_CONTENT_PER_MIN: '2' });
    try {
      const codes = [];
      for (let i = 0; i < 3; i++) codes.push((await r.app.inject({ url: '/v1/assets/ast_nothing/content?expires=1&sig=x' })).statusCode);
      expect(codes).toEqual([403, 403, 429]);
    } finally {
      await r.close();
    }
  });

  it('documents the admin API in /openapi.json', async () => {
    const doc = (await t.app.inject({ url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/admin/teams', '/v1/admin/teams/{id}', '/v1/admin/teams/{id}/keys', '/v1/admin/keys/{id}/revoke', '/v1/admin/keys/{id}/rotate']));
  });
});
