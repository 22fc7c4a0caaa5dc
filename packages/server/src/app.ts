import { randomBytes } from 'node:crypto';
import swagger from '@fastify/swagger';
import rateLimit from '@fastify/rate-limit';
import Fastify, { LogController } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { createAuthenticator } from './auth.js';
import type { Deps } from './deps.js';
import { ApiError, sendError } from './errors.js';
import { accountRoutes } from './routes/account.js';
import { assetContentRoute, assetRoutes } from './routes/assets.js';
import { jobRoutes } from './routes/jobs.js';
import { opsRoutes } from './routes/ops.js';
import { promptRoutes } from './routes/prompts.js';

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
    trustProxy: true,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON only: a text/plain body is a client mistake (415), not a string to validate.
  app.removeContentTypeParser('text/plain');

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    d.metrics.http.observe({ method: req.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    // /readyz answers 503 by design until a worker is up; that is not a failed request.
    if (reply.statusCode >= 500 && route !== '/readyz') req.log.warn({ route, status: reply.statusCode, ms: reply.elapsedTime }, 'request failed');
  });
  app.setErrorHandler((err, req, reply) => sendError(req, reply, err));
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

  await app.register(opsRoutes(d));
  await app.register(assetContentRoute(d));

  // Everything else under /v1 needs an API key and is rate limited per key, in process:
  // a shared Redis counter cost a round trip per request. With N replicas behind a
  // balancer, each enforces CLICKVID_RATE_LIMIT_PER_MIN / N (see deploy/). The limit
  // runs after authentication, so every request it counts has a key.
  const authenticate = createAuthenticator(d.teams);
  await app.register(async (v1) => {
    v1.addHook('onRequest', async (req) => authenticate(req));
    await v1.register(rateLimit, {
      max: d.config.rateLimitPerMin,
      timeWindow: 60_000,
      keyGenerator: (req) => req.apiKeyId,
      errorResponseBuilder: (_req, ctx) =>
        new ApiError('rate_limited', `Rate limit of ${ctx.max} requests per minute exceeded; retry in ${ctx.after}.`, {
          headers: { 'retry-after': String(Math.ceil(ctx.ttl / 1000)) },
        }),
    });
    await v1.register(jobRoutes(d));
    await v1.register(assetRoutes(d));
    await v1.register(accountRoutes(d));
    await v1.register(promptRoutes(d));
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
