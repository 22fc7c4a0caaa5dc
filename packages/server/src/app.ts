import { randomBytes } from 'node:crypto';
import swagger from '@fastify/swagger';
import Fastify, { LogController } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { createAdminCheck } from './auth.js';
import { registerCors } from './internal/browser-security.js';
import type { Deps } from './deps.js';
import { ApiError, sendError } from './errors.js';
import { httpTracingHooks } from './internal/http-tracing.js';
import { registerRateLimits } from './rate-limits.js';
import { accountRoutes } from './routes/account.js';
import { adminRoutes } from './routes/admin.js';
import { assetContentRoute, assetRoutes } from './routes/assets.js';
import { eventRoutes } from './routes/events.js';
import { jobRoutes } from './routes/jobs.js';
import { opsRoutes } from './routes/ops.js';
import { promptRoutes } from './routes/prompts.js';
import { studioRoutes } from './routes/studio.js';
import { webhookRoutes } from './routes/webhooks.js';

const VERSION = '0.1.0';

/** The HTTP API. Routes validate with the contract's zod schemas, which also generate /openapi.json. */
export async function buildApp(d: Deps, logger: Logger) {
  const app = Fastify({
    loggerInstance: logger,
    // Requests are measured by the metrics hook; per-request log lines would cost more than they tell.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    requestIdHeader: 'x-request-id',
    genReqId: requestIds(),
    // Only proxies on private networks may name the client: per-address limits count by it.
    trustProxy: d.config.trustProxy,
    // Errors the router raises before any route or hook (bad percent-encoding, an over-long
    // path segment) go through the same envelope as the rest, not Fastify's own body.
    frameworkErrors: (err, req, reply) => void sendError(req, reply, err),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON only: a text/plain body is a client mistake (415), not a string to validate.
  app.removeContentTypeParser('text/plain');

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  if (d.tracer.enabled) {
    const hooks = httpTracingHooks(d.tracer);
    app.addHook('onRequest', hooks.onRequest);
    app.addHook('onResponse', hooks.onResponse);
  }
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    d.metrics.http.observe({ method: req.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    // /readyz answers 503 by design until a worker is up; that is not a failed request.
    if (reply.statusCode >= 500 && route !== '/readyz') req.log.warn({ route, status: reply.statusCode, ms: reply.elapsedTime }, 'request failed');
  });
  app.setErrorHandler((err, req, reply) => {
    d.redisAvailability.report(err);
    return sendError(req, reply, err);
  });
  app.setNotFoundHandler((req, reply) => sendError(req, reply, new ApiError('not_found', `No route ${req.method} ${req.url.split('?')[0]}.`)));

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'clickvid API', version: VERSION, description: 'Prompt to short video. Every error body is {"error": {type, code, message, param?, request_id}}.' },
      servers: [{ url: d.config.publicUrl }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });

  registerCors(app, d.config);
  await app.register(opsRoutes(d));
  await app.register(studioRoutes(d));
  const limits = await registerRateLimits(app, d.redis, d.config, d.redisAvailability);
  await app.register(async (content) => {
    content.addHook('onRequest', limits.content);
    await content.register(assetContentRoute(d));
  });

  // The admin API: admin keys only (a team key is refused), outside the team-key hook.
  const isAdmin = createAdminCheck(d.config.adminKeySha256);
  await app.register(async (admin) => {
    admin.addHook('onRequest', async (req, reply) => {
      if (!isAdmin(req)) await limits.refuseKey(req, reply, new ApiError('invalid_admin_key'));
    });
    await admin.register(adminRoutes(d));
  });

  // Everything else under /v1 needs a team's API key, and is rate limited per key in
  // Redis (shared by all replicas) after authentication, so every request it counts has a key.
  await app.register(async (v1) => {
    v1.addHook('onRequest', async (req, reply) => {
      if (!(await d.auth.authenticate(req))) await limits.refuseKey(req, reply, new ApiError('invalid_api_key'));
      await limits.perKey(req, reply);
      // Redis stopped answering an earlier call: answer now rather than wait out another timeout.
      if (d.redisAvailability.down) throw new ApiError('service_unavailable', 'Redis is not answering; retry shortly.', { headers: { 'retry-after': '2' } });
    });
    await v1.register(jobRoutes(d));
    await v1.register(eventRoutes(d));
    await v1.register(assetRoutes(d));
    await v1.register(accountRoutes(d));
    await v1.register(promptRoutes(d));
    await v1.register(webhookRoutes(d));
  });
  return app;
}

/**
 * Request ids: `req_`, a random prefix drawn once per process, and a counter. Unique
 * across replicas without a random draw per request, which cost about 5 % of a submit.
 */
function requestIds(): () => string {
  const prefix = `req_${randomBytes(6).toString('hex')}`;
  let n = 0;
  return () => `${prefix}${(n++).toString(36)}`;
}
