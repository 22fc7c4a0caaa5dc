import { ErrorBody, Job } from '@clickvid/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from './internal/app.testkit.js';

let t: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => t.close());

const post = (url: string, body: unknown, key = t.keyA) => t.app.inject({ method: 'POST', url, headers: t.auth(key), payload: body as object });
const job = (res: { json(): unknown }) => Job.parse(res.json());
const code = (res: { json(): unknown }) => ErrorBody.parse(res.json()).error.code;

describe('iterate with from_job', () => {
  it('inherits seed, framing and metadata, takes overrides, and records the parent', async () => {
    const parent = job(await post('/v1/generate', { prompt: 'a red circle moving right on a blue background', seed: 4242, duration_s: 3, metadata: { campaign: 'fall' } }));
    const child = job(await post('/v1/generate', { from_job: parent.id, prompt: 'a red circle moving left on a blue background' }));
    expect(child).toMatchObject({ parent_job_id: parent.id, quality: 'draft', prompt: 'a red circle moving left on a blue background', metadata: { campaign: 'fall' } });
    expect(child.params).toEqual(parent.params);
    const reseeded = job(await post('/v1/generate', { from_job: child.id, seed: 1 }));
    expect(reseeded).toMatchObject({ parent_job_id: child.id, prompt: child.prompt });
    expect(reseeded.params.seed).toBe(1);
  });

  it("cannot iterate on another team's job", async () => {
    const parent = job(await post('/v1/generate', { prompt: 'a red circle bouncing on a blue background' }));
    const res = await post('/v1/generate', { from_job: parent.id }, t.keyB);
    expect(res.statusCode).toBe(404);
    expect(code(res)).toBe('job_not_found');
  });
});

describe('promote', () => {
  it('creates one final with the same prompt, seed and framing; repeat calls return it', async () => {
    const draft = job(await post('/v1/generate', { prompt: 'two yellow squares spinning on a black background', seed: 9 }));
    const first = await post(`/v1/jobs/${draft.id}/promote`, { quality: 'final' });
    expect(first.statusCode).toBe(202);
    const fin = job(first);
    expect(fin).toMatchObject({ quality: 'final', prompt: draft.prompt, parent_job_id: draft.id });
    expect(fin.params.seed).toBe(9);
    expect(fin.params.duration_s).toBeCloseTo(draft.params.duration_s, 1);
    expect(fin.params.fps).toBe(t.deps.registry.tier('final').fps);
    expect(fin.model.variant).toBe(t.deps.registry.tier('final').variant);

    const again = await Promise.all([1, 2, 3].map(() => post(`/v1/jobs/${draft.id}/promote`, { quality: 'final' })));
    expect(again.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(new Set(again.map((r) => job(r).id))).toEqual(new Set([fin.id]));
    // Per (job, quality): standard is a different promotion.
    const std = job(await post(`/v1/jobs/${draft.id}/promote`, { quality: 'standard' }));
    expect(std.id).not.toBe(fin.id);
  });

  it('defaults to final, refuses failed/canceled parents (409) and non-upgrades (422)', async () => {
    const d = job(await post('/v1/generate', { prompt: 'a cyan triangle growing on a magenta background' }));
    expect(job(await post(`/v1/jobs/${d.id}/promote`, {})).quality).toBe('final');
    const f = job(await post('/v1/generate', { prompt: 'a cyan triangle growing on a magenta background', quality: 'final' }));
    const same = await post(`/v1/jobs/${f.id}/promote`, { quality: 'final' });
    expect(same.statusCode).toBe(422);
    expect(code(same)).toBe('unsupported_parameter');
    const c = job(await post('/v1/generate', { prompt: 'a cyan triangle shrinking on a magenta background' }));
    await post(`/v1/jobs/${c.id}/cancel`, undefined);
    const res = await post(`/v1/jobs/${c.id}/promote`, { quality: 'final' });
    expect(res.statusCode).toBe(409);
    expect(code(res)).toBe('job_not_promotable');
  });
});

describe('webhook targets', () => {
  it('refuses private, loopback and link-local targets (SSRF)', async () => {
    const targets = [
      'http://127.0.0.1:9/hook', 'http://localhost/hook', 'http://10.1.2.3/x', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/x', 'http://192.168.0.10/x',
      // IPv4-mapped and -compatible IPv6 spellings of loopback and the metadata address
      'http://[::ffff:127.0.0.1]:9/x', 'http://[::ffff:7f00:1]/x', 'http://[0:0:0:0:0:ffff:7f00:1]/x', 'http://[::ffff:a9fe:a9fe]/latest', 'http://[::7f00:1]/x',
      // link-local beyond the literal fe80 prefix, unique-local, NAT64, 6to4, Teredo, CGNAT, reserved, multicast
      'http://[febf::1]/x', 'http://[fd00:ec2::254]/x', 'http://[64:ff9b::7f00:1]/x', 'http://[2002:7f00:1::]/x', 'http://[2001::1]/x',
      'http://100.64.0.1/x', 'http://198.18.0.1/x', 'http://0.0.0.0/x', 'http://[::]/x', 'http://[ff02::1]/x', 'http://2130706433/x', 'http://0x7f.1/x',
    ];
    for (const url of targets) {
      const res = await post('/v1/generate', { prompt: 'a red circle bouncing on a blue background', webhook_url: url });
      expect({ url, status: res.statusCode, code: (res.json() as { error?: { code?: string } }).error?.code }).toEqual({ url, status: 422, code: 'invalid_webhook_url' });
    }
  });

});

describe('degradation', () => {
  it('flags degraded drafts when the predicted wait is over budget, and never silently', async () => {
    const d = await testApp({ CLICKVID_DRAFT_WAIT_BUDGET_MS: '1' });
    try {
      const first = Job.parse((await d.app.inject({ method: 'POST', url: '/v1/generate', headers: d.auth(d.keyA), payload: { prompt: 'a red circle bouncing on a blue background' } })).json());
      expect(first.degraded).toBe(false);
      // The prediction reads a snapshot of the queue that is at most 250 ms old.
      await new Promise((r) => setTimeout(r, 300));
      const next = Job.parse((await d.app.inject({ method: 'POST', url: '/v1/generate', headers: d.auth(d.keyA), payload: { prompt: 'a red circle bouncing on a blue background' } })).json());
      expect(next.degraded).toBe(true);
      expect(next.params.frames).toBeLessThan(first.params.frames);
      expect(next.warnings.join(' ')).toMatch(/busy/);
    } finally {
      await d.close();
    }
  });
});
