import { ERROR_CATALOGUE, ErrorBody } from '@clickvid/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from './internal/app.testkit.js';

let t: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => t.close());

/** The one envelope, a code from the catalogue with its own status, and the request id in the header too. */
function expectEnvelope(res: { statusCode: number; headers: Record<string, unknown>; json(): unknown }, code: string) {
  const body = ErrorBody.safeParse(res.json());
  expect(body.success, JSON.stringify(res.json())).toBe(true);
  const err = body.data!.error;
  expect(err.code).toBe(code);
  expect(Object.hasOwn(ERROR_CATALOGUE, err.code)).toBe(true);
  expect(res.statusCode).toBe(ERROR_CATALOGUE[err.code as keyof typeof ERROR_CATALOGUE].status);
  expect(err.request_id).toMatch(/^req_/);
  expect(res.headers['x-request-id']).toBe(err.request_id);
  return err;
}

describe("Fastify's own errors answer in the error envelope", () => {
  it('malformed percent-encoding in the path is 400 malformed_url', async () => {
    for (const url of ['/v1/jobs/%zz', '/v1/jobs/%', '/v1/jobs/%E0%A4%A', '/v1/assets/%zz/content', '/v1/jobs/%zz/events']) {
      const res = await t.app.inject({ url, headers: t.auth(t.keyA) });
      expectEnvelope(res, 'malformed_url');
    }
  });

  it('a path parameter past the router limit is 414 uri_too_long', async () => {
    const res = await t.app.inject({ url: `/v1/jobs/${'a'.repeat(200)}`, headers: t.auth(t.keyA) });
    expectEnvelope(res, 'uri_too_long');
  });

  it('bad JSON, an empty JSON body and a JSON body with __proto__ are 400 invalid_request', async () => {
    const post = (payload: string) =>
      t.app.inject({ method: 'POST', url: '/v1/generate', headers: { ...t.auth(t.keyA), 'content-type': 'application/json' }, payload });
    expectEnvelope(await post('{"prompt":'), 'invalid_request');
    expectEnvelope(await post(''), 'invalid_request');
    expectEnvelope(await post('{"__proto__":{"x":1},"prompt":"a red circle"}'), 'invalid_request');
  });

  it('a body over the limit is 413, a wrong or missing content type 415', async () => {
    const big = await t.app.inject({
      method: 'POST', url: '/v1/generate', headers: { ...t.auth(t.keyA), 'content-type': 'application/json' }, payload: JSON.stringify({ prompt: 'x'.repeat(70_000) }),
    });
    expectEnvelope(big, 'payload_too_large');
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/generate', headers: { ...t.auth(t.keyA), 'content-type': type }, payload: 'a=b' });
      expectEnvelope(res, 'unsupported_media_type');
    }
  });

  it('an unknown route or method is 404 not_found', async () => {
    expectEnvelope(await t.app.inject({ url: '/nope' }), 'not_found');
    expectEnvelope(await t.app.inject({ method: 'DELETE', url: '/v1/generate', headers: t.auth(t.keyA) }), 'not_found');
    expectEnvelope(await t.app.inject({ method: 'PATCH', url: '/v1/jobs/job_x', headers: t.auth(t.keyA) }), 'not_found');
  });

  it('an empty Idempotency-Key is 400 invalid_idempotency_key, not ignored', async () => {
    const res = await t.app.inject({
      method: 'POST', url: '/v1/generate', headers: { ...t.auth(t.keyA), 'idempotency-key': '' }, payload: { prompt: 'a red circle moving right' },
    });
    const err = expectEnvelope(res, 'invalid_idempotency_key');
    expect(err.param).toBe('Idempotency-Key');
    const long = await t.app.inject({
      method: 'POST', url: '/v1/generate', headers: { ...t.auth(t.keyA), 'idempotency-key': 'k'.repeat(256) }, payload: { prompt: 'a red circle moving right' },
    });
    expectEnvelope(long, 'invalid_idempotency_key');
  });
});
