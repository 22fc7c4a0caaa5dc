import { liveWorkers } from '@clickvid/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Deps } from '../deps.js';

/** Liveness, readiness, metrics and the OpenAPI document: no API key. */
export const opsRoutes = (d: Deps): FastifyPluginAsyncZod => async (app) => {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    const checks: Record<string, string> = {};
    try {
      await d.redis.ping();
      checks.redis = 'ok';
      const workers = await liveWorkers(d.redis);
      checks.workers = workers > 0 ? `ok (${workers})` : 'none';
    } catch (err) {
      checks.redis = `down: ${(err as Error).message}`;
    }
    const ready = checks.redis === 'ok' && checks.workers?.startsWith('ok');
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });

  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => reply.type(d.metrics.contentType).send(await d.metrics.render()));
  // Scrape this once per cluster (through the Service): every replica would answer the same.
  app.get('/metrics/cluster', { schema: { hide: true } }, async (_req, reply) => reply.type(d.metrics.contentType).send(await d.metrics.renderCluster()));

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
};
