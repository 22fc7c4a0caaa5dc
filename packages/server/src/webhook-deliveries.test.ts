/**
 * /v1/webhooks/deliveries through app.inject, on a real redis-server: team scoping, the
 * error envelope, replay as a new queued delivery of the same bytes, Idempotency-Key, OpenAPI.
 */
import { ErrorBody, WebhookDelivery, WebhookDeliveryList } from '@clickvid/contracts';
import { originalDeliveryId, type NewDelivery } from '@clickvid/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from './internal/app.testkit.js';

let t: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => t?.close());

const errorOf = (res: { json(): unknown }) => ErrorBody.parse(res.json()).error;
const PAYLOAD = '{"type":"job.failed","timestamp":"2026-11-29T16:20:00.310Z","data":{"id":"job_x","note":"é ✓ exact bytes"}}';

async function seed(team: string, n: number, url = 'https://93.184.215.14/hooks'): Promise<NewDelivery> {
  const eventId = `evt_${team}${n}_failed`;
  const d: NewDelivery = { id: originalDeliveryId(eventId), team, eventId, jobId: `job_${team}${n}`, type: 'job.failed', url, payload: PAYLOAD };
  await t.deps.deliveries.create(d);
  return d;
}

describe('/v1/webhooks/deliveries', () => {
  it("lists, filters and gets the caller's deliveries; another team's read as 404 webhook_delivery_not_found", async () => {
    const a1 = await seed('alpha', 1);
    const a2 = await seed('alpha', 2);
    const b1 = await seed('beta', 1);
    await t.deps.deliveries.recordAttempt(a1.id, { attempts: 1, status: 'pending', statusCode: 500, error: 'answered 500', nextRetryAt: new Date(Date.now() + 4000) });

    const list = await t.app.inject({ url: '/v1/webhooks/deliveries', headers: t.auth(t.keyA) });
    expect(list.statusCode).toBe(200);
    const body = WebhookDeliveryList.parse(list.json());
    expect(body.data.map((d) => d.id)).toEqual([a2.id, a1.id]);
    const byJob = WebhookDeliveryList.parse((await t.app.inject({ url: `/v1/webhooks/deliveries?job_id=${a1.jobId}&status=pending`, headers: t.auth(t.keyA) })).json());
    expect(byJob.data.map((d) => d.id)).toEqual([a1.id]);
    const paged = WebhookDeliveryList.parse((await t.app.inject({ url: '/v1/webhooks/deliveries?limit=1', headers: t.auth(t.keyA) })).json());
    expect(paged.data.map((d) => d.id)).toEqual([a2.id]);
    const next = WebhookDeliveryList.parse((await t.app.inject({ url: `/v1/webhooks/deliveries?limit=1&cursor=${encodeURIComponent(paged.next_cursor!)}`, headers: t.auth(t.keyA) })).json());
    expect(next.data.map((d) => d.id)).toEqual([a1.id]);
    expect(next.next_cursor).toBeNull();
    expect((await t.app.inject({ url: '/v1/webhooks/deliveries?status=bogus', headers: t.auth(t.keyA) })).statusCode).toBe(400);

    const got = await t.app.inject({ url: `/v1/webhooks/deliveries/${a1.id}`, headers: t.auth(t.keyA) });
    expect(WebhookDelivery.parse(got.json())).toMatchObject({ id: a1.id, event_id: a1.eventId, status: 'pending', attempts: 1, last_status_code: 500 });

    const theirs = await t.app.inject({ url: `/v1/webhooks/deliveries/${b1.id}`, headers: t.auth(t.keyA) });
    expect(theirs.statusCode).toBe(404);
    expect(errorOf(theirs).code).toBe('webhook_delivery_not_found');
    const replayTheirs = await t.app.inject({ method: 'POST', url: `/v1/webhooks/deliveries/${b1.id}/replay`, headers: t.auth(t.keyA) });
    expect(replayTheirs.statusCode).toBe(404);
    expect(errorOf(replayTheirs).code).toBe('webhook_delivery_not_found');
    const listB = WebhookDeliveryList.parse((await t.app.inject({ url: '/v1/webhooks/deliveries', headers: t.auth(t.keyB) })).json());
    expect(listB.data.map((d) => d.id)).toEqual([b1.id]);
  });

  it('replays as a new delivery: same event id and stored bytes, its own BullMQ job, once per Idempotency-Key', async () => {
    const a = await seed('alpha', 3);
    const headers = { ...t.auth(t.keyA), 'idempotency-key': 'replay-once' };
    const first = await t.app.inject({ method: 'POST', url: `/v1/webhooks/deliveries/${a.id}/replay`, headers });
    expect(first.statusCode).toBe(202);
    const replay = WebhookDelivery.parse(first.json());
    expect(replay).toMatchObject({ event_id: a.eventId, job_id: a.jobId, replay_of: a.id, status: 'pending', attempts: 0 });
    expect(replay.id).not.toBe(a.id);
    const job = await t.deps.queues.webhooks.getJob(replay.id);
    expect(job?.data).toMatchObject({ eventId: a.eventId, deliveryId: replay.id, payload: PAYLOAD, url: a.url });
    expect((await t.deps.deliveries.get(replay.id))?.payload).toBe(PAYLOAD);

    const again = await t.app.inject({ method: 'POST', url: `/v1/webhooks/deliveries/${a.id}/replay`, headers });
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().id).toBe(replay.id);
    const ofJob = WebhookDeliveryList.parse((await t.app.inject({ url: `/v1/webhooks/deliveries?job_id=${a.jobId}`, headers: t.auth(t.keyA) })).json());
    expect(ofJob.data.map((d) => d.id)).toEqual([replay.id, a.id]);
  });

  it('refuses to replay to a target that is not public (422 invalid_webhook_url)', async () => {
    const a = await seed('alpha', 4, 'http://127.0.0.1:9/hooks');
    const res = await t.app.inject({ method: 'POST', url: `/v1/webhooks/deliveries/${a.id}/replay`, headers: t.auth(t.keyA) });
    expect(res.statusCode).toBe(422);
    expect(errorOf(res).code).toBe('invalid_webhook_url');
  });

  it('is in /openapi.json', async () => {
    const doc = (await t.app.inject({ url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/webhooks/deliveries', '/v1/webhooks/deliveries/{id}', '/v1/webhooks/deliveries/{id}/replay']));
    expect(doc.paths['/v1/webhooks/deliveries/{id}/replay'].post.responses['202']).toBeTruthy();
  });
});
