import { ErrorBody, Job, PromptCheck } from '@clickvid/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from './internal/app.testkit.js';

let t: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => t.close());

const check = (body: unknown, key = t.keyA) => t.app.inject({ method: 'POST', url: '/v1/prompts/check', headers: t.auth(key), payload: body as object });
const gen = (body: unknown) => t.app.inject({ method: 'POST', url: '/v1/generate', headers: t.auth(t.keyA), payload: body as object });

describe('POST /v1/prompts/check', () => {
  it('reads a prompt as the model does: lower case, aliases, no punctuation; nothing flagged', async () => {
    const res = await check({ prompt: 'On a white BACKGROUND, two grey circles moving up!' });
    expect(res.statusCode).toBe(200);
    const c = PromptCheck.parse(res.json());
    expect(c.normalized).toBe('on a white background two gray circle moving up');
    expect(c.unknown).toEqual([]);
    expect(c.warnings).toEqual([]);
    expect(c.refused).toBe(false);
    expect(c.error).toBeNull();
    expect(c.quality).toBe('draft');
    expect(c.params).toMatchObject({ fps: 8, frames: 16, width: 128, height: 128, seed: null });
    expect(c.model).toMatchObject({ id: 'clickvid-shapes', variant: 'int8-128' });
    expect(c.estimate.gpu_seconds).toBeGreaterThan(0);
  });

  it('gives the same estimate, model and warnings a submit gets, and creates no job', async () => {
    const body = { prompt: 'a red circle bouncing majestically on a blue background', quality: 'final' as const, duration_s: 2, seed: 7 };
    const c = PromptCheck.parse((await check(body)).json());
    expect(c.unknown).toEqual(['majestically']);
    expect(c.params.seed).toBe(7);
    const before = await t.deps.redis.dbsize();
    await check(body);
    expect(await t.deps.redis.dbsize()).toBe(before);
    const job = Job.parse((await gen(body)).json());
    expect(c.warnings).toEqual(job.warnings);
    expect(c.estimate).toEqual(job.estimate);
    expect(c.model).toEqual(job.model);
    expect({ ...c.params, seed: 7 }).toEqual(job.params);
  });

  it('says a prompt outside the world would be refused, with the error a submit gets', async () => {
    for (const prompt of ['a cat sleeping on a sofa', 'a red car driving left', 'a lovely sunset over the sea', 'a red circle and a blue dog']) {
      const c = PromptCheck.parse((await check({ prompt })).json());
      expect(c.refused, prompt).toBe(true);
      expect(c.error?.code).toBe('prompt_not_understood');
      expect(c.error?.details?.vocabulary).toEqual(expect.arrayContaining(['circle', 'square', 'triangle']));
      const res = await gen({ prompt });
      expect(res.statusCode).toBe(422);
      expect(ErrorBody.parse(res.json()).error).toMatchObject({ code: 'prompt_not_understood', message: c.error?.message });
    }
    const blocked = PromptCheck.parse((await check({ prompt: 'a nsfw red circle' })).json());
    expect(blocked.error?.code).toBe('prompt_rejected');
  });

  it('validates like a submit, and needs a key', async () => {
    expect((await check({ prompt: 'a red circle', duration_s: 60 })).statusCode).toBe(400);
    expect(ErrorBody.parse((await check({ prompt: 'a red circle', quality: 'draft', duration_s: 10 })).json()).error.code).toBe('unsupported_parameter');
    expect((await check({})).statusCode).toBe(400);
    expect((await t.app.inject({ method: 'POST', url: '/v1/prompts/check', payload: { prompt: 'a red circle' } })).statusCode).toBe(401);
  });
});
