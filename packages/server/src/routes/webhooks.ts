import { ErrorBody, WebhookDelivery, WebhookDeliveryList, WebhookDeliveryListQuery } from '@clickvid/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from '../deps.js';
import { ApiError } from '../errors.js';
import { checkIdempotencyKey } from '../idempotency.js';

const IdParams = z.object({ id: z.string().max(64) });
const IdemHeaders = z.object({ 'idempotency-key': z.string().optional() }).loose();
const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody, 429: ErrorBody };

/** Another team's delivery reads exactly as a missing one. */
const missing = (id: string) => new ApiError('webhook_delivery_not_found', `No such webhook delivery: ${id}.`, { param: 'id' });

export const webhookRoutes = (d: Deps): FastifyPluginAsyncZod => async (app) => {
  app.get('/v1/webhooks/deliveries', {
    schema: {
      summary: "The team's webhook deliveries (attempts, last answer, next retry), newest first, with cursor pagination; filters `job_id` and `status`. Kept 7 days.",
      tags: ['webhooks'],
      querystring: WebhookDeliveryListQuery,
      response: { 200: WebhookDeliveryList, ...errors },
    },
  }, async (req) => {
    const q = req.query;
    const page = await d.deliveries.list(req.team.id, {
      limit: q.limit,
      cursor: q.cursor,
      filter: (dl) => (!q.job_id || dl.job_id === q.job_id) && (!q.status || dl.status === q.status),
    });
    return { object: 'list' as const, data: page.deliveries.map((s) => s.delivery), next_cursor: page.nextCursor };
  });

  app.get('/v1/webhooks/deliveries/:id', {
    schema: { summary: 'One webhook delivery.', tags: ['webhooks'], params: IdParams, response: { 200: WebhookDelivery, ...errors } },
  }, async (req) => {
    const s = await d.deliveries.getForTeam(req.team.id, req.params.id);
    if (!s) throw missing(req.params.id);
    return s.delivery;
  });

  app.post('/v1/webhooks/deliveries/:id/replay', {
    schema: {
      summary: 'Send the event again (202): the same webhook-id and the same stored body, as a new delivery with `replay_of`. Send an Idempotency-Key to make retries safe.',
      tags: ['webhooks'],
      params: IdParams,
      headers: IdemHeaders,
      response: { 202: WebhookDelivery, ...errors },
    },
  }, async (req, reply) => {
    const key = checkIdempotencyKey(req.headers['idempotency-key']);
    const work = async () => {
      const original = await d.deliveries.getForTeam(req.team.id, req.params.id);
      if (!original) throw missing(req.params.id);
      // The sender checks again at connect time; this gives the caller a clear 422 now.
      await d.webhookTargets.check(original.delivery.url);
      const replay = await d.deliveries.replay(original, d.queues.webhooks);
      return { status: 202, body: replay.delivery };
    };
    const res = key !== undefined ? await d.idempotency.run(req.team.id, key, { route: 'webhook_replay', id: req.params.id }, work) : { ...(await work()), replayed: false };
    if (res.replayed) reply.header('idempotent-replayed', 'true');
    return reply.status(res.status).send(res.body as WebhookDelivery);
  });
};
