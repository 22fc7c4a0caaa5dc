import { createHash } from 'node:crypto';
import { ErrorBody, Job, JobList } from '@clickvid/contracts';
import { newId } from '@clickvid/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from './internal/app.testkit.js';

let t: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => t.close());

const PROMPT = 'two red circles moving right on a blue background';
const gen = (body: unknown, key = t.keyA, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url: '/v1/generate', headers: { ...t.auth(key), ...headers }, payload: body as object });
const errorOf = (res: { json(): unknown }) => ErrorBody.parse(res.json()).error;

describe('auth', () => {
  it('401 missing_api_key without a key, invalid_api_key with a wrong one', async () => {
    const none = await t.app.inject({ method: 'POST', url: '/v1/generate', payload: { prompt: PROMPT } });
    expect(none.statusCode).toBe(401);
    expect(errorOf(none).code).toBe('missing_api_key');
    expect(errorOf(none).request_id).toMatch(/^req_/);
    expect(none.headers['x-request-id']).toBe(errorOf(none).request_id);
    const bad = await gen({ prompt: PROMPT }, 'cv_live_nope');
    expect(bad.statusCode).toBe(401);
    expect(errorOf(bad).code).toBe('invalid_api_key');
  });

  it('stores keys hashed, never in the clear', async () => {
    const keys = await t.deps.redis.keys('cv:apikey:*');
    expect(keys.length).toBeGreaterThanOrEqual(2);
    for (const k of keys) expect(k).not.toContain(t.keyA);
  });
});

describe('POST /v1/generate', () => {
  it('queues a job with the tier defaults filled in', async () => {
    const res = await gen({ prompt: PROMPT, seed: 11, metadata: { campaign: 'launch' } });
    expect(res.statusCode).toBe(202);
    const job = Job.parse(res.json());
    expect(job).toMatchObject({ status: 'queued', quality: 'draft', prompt: PROMPT, metadata: { campaign: 'launch' }, cache_hit: false });
    const tier = t.deps.registry.tier('draft');
    expect(job.params).toMatchObject({ seed: 11, fps: tier.fps });
    expect(job.params.frames).toBe(Math.round(tier.duration_s * tier.fps));
    expect(job.model).toEqual(t.deps.registry.modelRef('draft'));
    expect(job.estimate.gpu_seconds).toBeGreaterThan(0);
    expect(job.queue_position).toBeGreaterThanOrEqual(0);
    expect(job.warnings).toEqual([]);
  });

  it('validates with stable codes and names the parameter', async () => {
    const cases: Array<[unknown, number, string, string | undefined]> = [
      [{}, 400, 'validation_failed', 'prompt'],
      [{ prompt: PROMPT, quality: 'ultra' }, 400, 'validation_failed', 'quality'],
      [{ prompt: PROMPT, fps: 2.5 }, 400, 'validation_failed', 'fps'],
      [{ prompt: PROMPT, surprise: true }, 400, 'validation_failed', undefined],
      [{ prompt: PROMPT, duration_s: 29 }, 422, 'unsupported_parameter', 'duration_s'],
      [{ prompt: PROMPT, aspect_ratio: '16:9' }, 422, 'unsupported_parameter', 'aspect_ratio'],
      [{ prompt: 'a lovely sunset over the sea' }, 422, 'prompt_not_understood', 'prompt'],
      [{ prompt: PROMPT, webhook_url: 'ftp://example.com/x' }, 400, 'validation_failed', 'webhook_url'],
    ];
    for (const [body, status, code, param] of cases) {
      const res = await gen(body);
      expect({ body, status: res.statusCode, code: errorOf(res).code }).toEqual({ body, status, code });
      if (param) expect(errorOf(res).param).toBe(param);
    }
  });

  it('a prompt the model cannot read gets the vocabulary as a hint', async () => {
    const res = await gen({ prompt: 'cinematic drone shot of mountains' });
    const err = errorOf(res);
    expect(err.details?.vocabulary).toEqual(expect.arrayContaining(['circle', 'square', 'triangle', 'red']));
  });

  it('names the words it ignored in warnings', async () => {
    const job = Job.parse((await gen({ prompt: 'a red circle bouncing majestically on a blue background' })).json());
    expect(job.warnings.join(' ')).toContain('majestically');
  });

  it('warns when a prompt asks for more objects than the model draws', async () => {
    const job = Job.parse((await gen({ prompt: 'three red circles and two blue squares bouncing on a black background' })).json());
    expect(job.warnings.join(' ')).toMatch(/asks for 5 objects in 2 groups/);
  });

  it('submits arriving together share commits, and each gets its own queued job', async () => {
    const execs = async () => Number(/cmdstat_exec:calls=(\d+)/.exec(await t.deps.redis.info('commandstats'))?.[1] ?? 0);
    const before = await execs();
    const res = await Promise.all(Array.from({ length: 30 }, (_, i) => gen({ prompt: PROMPT, seed: 5000 + i })));
    expect(res.map((r) => r.statusCode)).toEqual(Array(30).fill(202));
    const jobs = res.map((r) => Job.parse(r.json()));
    expect(jobs.map((j) => j.params.seed)).toEqual(Array.from({ length: 30 }, (_, i) => 5000 + i));
    expect(new Set(jobs.map((j) => j.id)).size).toBe(30);
    expect(new Set(jobs.map((j) => j.queue_position)).size).toBe(30);
    expect((await execs()) - before).toBeLessThan(30);
    for (const j of jobs) expect(await t.deps.queues.draft.getJob(j.id)).toBeDefined();
  });

  it('a refusal in a group of submits answers alone', async () => {
    const res = await Promise.all([gen({ prompt: PROMPT }), gen({ prompt: PROMPT, duration_s: 29 }), gen({ prompt: PROMPT })]);
    expect(res.map((r) => r.statusCode)).toEqual([202, 422, 202]);
    expect(errorOf(res[1]!).code).toBe('unsupported_parameter');
  });

  it('malformed JSON and wrong content type are 400 and 415, not crashes', async () => {
    const bad = await t.app.inject({ method: 'POST', url: '/v1/generate', headers: { ...t.auth(t.keyA), 'content-type': 'application/json' }, payload: '{"prompt":' });
    expect(bad.statusCode).toBe(400);
    expect(errorOf(bad).code).toBe('invalid_request');
    const text = await t.app.inject({ method: 'POST', url: '/v1/generate', headers: { ...t.auth(t.keyA), 'content-type': 'text/plain' }, payload: 'hi' });
    expect(text.statusCode).toBe(415);
    expect(errorOf(text).code).toBe('unsupported_media_type');
  });
});

describe('idempotency', () => {
  it('replays the first response for the same key and body', async () => {
    const key = `k-${newId('req')}`;
    const a = await gen({ prompt: PROMPT, seed: 1 }, t.keyA, { 'idempotency-key': key });
    const b = await gen({ seed: 1, prompt: PROMPT }, t.keyA, { 'idempotency-key': key });
    expect(a.statusCode).toBe(202);
    expect(b.statusCode).toBe(202);
    expect(b.json().id).toBe(a.json().id);
    expect(b.headers['idempotent-replayed']).toBe('true');
    expect(a.headers['idempotent-replayed']).toBeUndefined();
  });

  it('422 idempotency_key_reused for the same key with another body', async () => {
    const key = `k-${newId('req')}`;
    await gen({ prompt: PROMPT }, t.keyA, { 'idempotency-key': key });
    const res = await gen({ prompt: 'a green square moving up on a black background' }, t.keyA, { 'idempotency-key': key });
    expect(res.statusCode).toBe(422);
    expect(errorOf(res).code).toBe('idempotency_key_reused');
  });

  it('50 racing duplicates create exactly one job', async () => {
    const key = `race-${newId('req')}`;
    const body = { prompt: PROMPT, metadata: { campaign: key } };
    const results = await Promise.all(Array.from({ length: 50 }, () => gen(body, t.keyA, { 'idempotency-key': key })));
    expect(results.map((r) => r.statusCode)).toEqual(Array(50).fill(202));
    expect(new Set(results.map((r) => r.json().id)).size).toBe(1);
    const list = JobList.parse((await t.app.inject({ url: `/v1/jobs?campaign=${key}`, headers: t.auth(t.keyA) })).json());
    expect(list.data).toHaveLength(1);
  });

  it('a replay submitted with new requests replays; the new ones each create a job', async () => {
    const key = `k-${newId('req')}`;
    const first = await gen({ prompt: PROMPT, seed: 3 }, t.keyA, { 'idempotency-key': key });
    const [replay, ...fresh] = await Promise.all([
      gen({ prompt: PROMPT, seed: 3 }, t.keyA, { 'idempotency-key': key }),
      ...Array.from({ length: 5 }, (_, i) => gen({ prompt: PROMPT, seed: 3 }, t.keyA, { 'idempotency-key': `${key}-${i}` })),
    ]);
    expect(replay!.json().id).toBe(first.json().id);
    expect(replay!.headers['idempotent-replayed']).toBe('true');
    expect(fresh.map((r) => r.statusCode)).toEqual(Array(5).fill(202));
    expect(new Set([first, ...fresh].map((r) => r.json().id)).size).toBe(6);
  });

  it('keys are scoped to the team', async () => {
    const key = `shared-${newId('req')}`;
    const a = await gen({ prompt: PROMPT }, t.keyA, { 'idempotency-key': key });
    const b = await gen({ prompt: PROMPT }, t.keyB, { 'idempotency-key': key });
    expect(b.statusCode).toBe(202);
    expect(b.json().id).not.toBe(a.json().id);
    expect(await t.deps.redis.ttl(`cv:idem:alpha:${sha256(key)}`)).toBeGreaterThan(23 * 3600);
  });
});

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('jobs', () => {
  it("another team's job is 404, as is a job that never existed", async () => {
    const id = (await gen({ prompt: PROMPT })).json().id;
    const other = await t.app.inject({ url: `/v1/jobs/${id}`, headers: t.auth(t.keyB) });
    expect(other.statusCode).toBe(404);
    expect(errorOf(other).code).toBe('job_not_found');
    expect((await t.app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel`, headers: t.auth(t.keyB) })).statusCode).toBe(404);
    expect((await t.app.inject({ url: '/v1/jobs/job_doesnotexist00', headers: t.auth(t.keyA) })).statusCode).toBe(404);
  });

  it('cancel is idempotent while queued and 409 once finished', async () => {
    const id = (await gen({ prompt: PROMPT })).json().id;
    const c1 = await t.app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel`, headers: t.auth(t.keyA) });
    expect(c1.statusCode).toBe(200);
    expect(c1.json().status).toBe('canceled');
    const c2 = await t.app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel`, headers: t.auth(t.keyA) });
    expect(c2.json().status).toBe('canceled');
    // The queued BullMQ job is gone, so no worker will pick it up.
    expect(await t.deps.queues.draft.getJob(id)).toBeUndefined();

    const done = (await gen({ prompt: PROMPT, seed: 99 })).json().id;
    await t.deps.lifecycle.fail(done, { code: 'inference_failed', message: 'x' });
    const c3 = await t.app.inject({ method: 'POST', url: `/v1/jobs/${done}/cancel`, headers: t.auth(t.keyA) });
    expect(c3.statusCode).toBe(409);
    expect(errorOf(c3).code).toBe('job_not_cancelable');
  });

  it('lists with filters and cursor pages', async () => {
    const campaign = `list-${newId('req')}`;
    for (let i = 0; i < 5; i++) await gen({ prompt: PROMPT, quality: i < 2 ? 'final' : 'draft', metadata: { campaign } });
    const finals = JobList.parse((await t.app.inject({ url: `/v1/jobs?campaign=${campaign}&quality=final`, headers: t.auth(t.keyA) })).json());
    expect(finals.data.map((j) => j.quality)).toEqual(['final', 'final']);
    const p1 = JobList.parse((await t.app.inject({ url: `/v1/jobs?campaign=${campaign}&limit=3`, headers: t.auth(t.keyA) })).json());
    expect(p1.data).toHaveLength(3);
    const p2 = JobList.parse((await t.app.inject({ url: `/v1/jobs?campaign=${campaign}&limit=3&cursor=${p1.next_cursor}`, headers: t.auth(t.keyA) })).json());
    expect(p2.data).toHaveLength(2);
    expect(p2.next_cursor).toBeNull();
    const bad = await t.app.inject({ url: '/v1/jobs?limit=1000', headers: t.auth(t.keyA) });
    expect(bad.statusCode).toBe(400);
  });
});

describe('assets', () => {
  async function storedAsset(team: string) {
    const id = newId('ast');
    const bytes = Buffer.from('\x00\x00\x00\x18ftypisom fake mp4 bytes');
    await t.deps.storage.put(`${team}/${id}.mp4`, bytes, { contentType: 'video/mp4' });
    await t.deps.assets.put({
      id, team, job_id: 'job_x000000000', kind: 'video', storage_key: `${team}/${id}.mp4`, content_type: 'video/mp4',
      bytes: bytes.length, width: 128, height: 128, frames: 16, duration_s: 2, sha256: 'f'.repeat(64), created_at: new Date().toISOString(),
    });
    return { id, bytes };
  }

  it('gives a signed URL that serves the bytes; tampering is 403', async () => {
    const { id, bytes } = await storedAsset('alpha');
    const meta = await t.app.inject({ url: `/v1/assets/${id}`, headers: t.auth(t.keyA) });
    expect(meta.statusCode).toBe(200);
    const url = new URL(meta.json().url);
    expect(Date.parse(meta.json().expires_at)).toBeGreaterThan(Date.now());
    const ok = await t.app.inject({ url: url.pathname + url.search });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['content-type']).toBe('video/mp4');
    expect(ok.rawPayload.equals(bytes)).toBe(true);

    const sig = url.searchParams.get('sig')!;
    const tampered = new URLSearchParams(url.search);
    tampered.set('sig', sig.replace(/^./, sig[0] === 'A' ? 'B' : 'A'));
    const r1 = await t.app.inject({ url: `${url.pathname}?${tampered}` });
    expect(r1.statusCode).toBe(403);
    expect(errorOf(r1).code).toBe('invalid_signature');
    const longer = new URLSearchParams(url.search);
    longer.set('expires', String(Number(url.searchParams.get('expires')) + 86_400));
    expect((await t.app.inject({ url: `${url.pathname}?${longer}` })).statusCode).toBe(403);
    expect((await t.app.inject({ url: url.pathname })).statusCode).toBe(403);
  });

  it('an expired URL is 403 url_expired', async () => {
    const { id } = await storedAsset('alpha');
    const { assetSignature } = await import('@clickvid/core');
    const past = Math.floor(Date.now() / 1000) - 5;
    const res = await t.app.inject({ url: `/v1/assets/${id}/content?expires=${past}&sig=${assetSignature(t.config.signingSecret, id, past)}` });
    expect(res.statusCode).toBe(403);
    expect(errorOf(res).code).toBe('url_expired');
  });

  it("another team's asset is 404", async () => {
    const { id } = await storedAsset('alpha');
    const res = await t.app.inject({ url: `/v1/assets/${id}`, headers: t.auth(t.keyB) });
    expect(res.statusCode).toBe(404);
    expect(errorOf(res).code).toBe('asset_not_found');
  });
});

describe('ops', () => {
  it('serves an OpenAPI document generated from the contract', async () => {
    const doc = (await t.app.inject({ url: '/openapi.json' })).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/generate', '/v1/jobs/{id}', '/v1/jobs', '/v1/assets/{id}', '/v1/usage', '/v1/models']));
    expect(doc.paths['/v1/generate'].post.requestBody.content['application/json'].schema.properties.prompt).toBeTruthy();
  });

  it('healthz is up; readyz says not ready without a worker', async () => {
    expect((await t.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    const r = await t.app.inject({ url: '/readyz' });
    expect(r.statusCode).toBe(503);
    expect(r.json().checks).toMatchObject({ redis: 'ok', workers: 'none' });
  });

  it('rate limits per key with 429 rate_limited and Retry-After', async () => {
    const r = await testApp({ CLICKVID_RATE_LIMIT_PER_MIN: '3' });
    try {
      const codes: number[] = [];
      let last;
      for (let i = 0; i < 5; i++) {
        last = await r.app.inject({ url: '/v1/models', headers: r.auth(r.keyA) });
        codes.push(last.statusCode);
      }
      expect(codes).toEqual([200, 200, 200, 429, 429]);
      expect(errorOf(last!).code).toBe('rate_limited');
      expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
      // Another key has its own budget.
      expect((await r.app.inject({ url: '/v1/models', headers: r.auth(r.keyB) })).statusCode).toBe(200);
    } finally {
      await r.close();
    }
  });

  it('unknown routes get the error body', async () => {
    const res = await t.app.inject({ url: '/v2/nothing' });
    expect(res.statusCode).toBe(404);
    expect(errorOf(res).code).toBe('not_found');
  });

  it('lists the model with its tiers and vocabulary', async () => {
    const res = await t.app.inject({ url: '/v1/models', headers: t.auth(t.keyA) });
    expect(res.statusCode).toBe(200);
    const m = res.json().data[0];
    expect(m.tiers.map((x: { quality: string }) => x.quality)).toEqual(['draft', 'standard', 'final']);
    // The published estimate is the one a job at the tier's defaults gets (the CLI budgets with it).
    const job = Job.parse((await gen({ prompt: PROMPT, quality: 'final' })).json());
    expect(m.tiers[2].estimate_gpu_seconds).toBe(job.estimate.gpu_seconds);
  });
});
