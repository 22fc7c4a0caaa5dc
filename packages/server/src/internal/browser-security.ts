import type { Config, Storage } from '@clickvid/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';

type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger, ZodTypeProvider>;

/**
 * The studio page's Content-Security-Policy, from the configuration: scripts, styles and API
 * calls only from this origin; video and posters also from where storage's signed URLs point
 * (this API for local storage, the bucket's endpoint or the CDN for S3). Trusted Types are
 * required and no policy may be made, so no string can ever reach an HTML or script sink.
 */
export function studioCsp(storage: Pick<Storage, 'urlOrigin'>): string {
  const media = [...new Set(["'self'", storage.urlOrigin])].join(' ');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src ${media}`,
    `media-src ${media}`,
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join('; ');
}

/** Response headers a browser reads on /v1 answers, besides the CORS-safelisted ones. */
const EXPOSED = ['x-request-id', 'retry-after', 'idempotent-replayed', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'].join(', ');
/** Request headers the SDK sends from a browser. */
const ALLOWED = ['authorization', 'content-type', 'idempotency-key', 'last-event-id', 'x-request-id'].join(', ');

/**
 * CORS for /v1, only for the origins in CLICKVID_CORS_ORIGINS (none by default: the studio is
 * served from the API's own origin and needs none). The headers are set in an onRequest hook,
 * so errors (401, 429) carry them, and event streams copy them when they take over the reply
 * (see {@link eventStreamHead}). Preflights are answered before authentication: a browser
 * sends no Authorization header with them.
 */
export function registerCors(app: App, config: Pick<Config, 'corsOrigins'>): void {
  if (config.corsOrigins.length === 0) return;
  const allowed = new Set(config.corsOrigins);
  const isV1 = (req: FastifyRequest) => req.url === '/v1' || req.url.startsWith('/v1/');
  app.addHook('onRequest', async (req, reply) => {
    if (!isV1(req)) return;
    reply.header('vary', 'Origin');
    const origin = req.headers.origin;
    if (!origin || !allowed.has(origin)) return;
    reply.header('access-control-allow-origin', origin);
    reply.header('access-control-expose-headers', EXPOSED);
    if (req.method === 'OPTIONS') {
      reply.header('access-control-allow-methods', 'GET, POST, OPTIONS');
      reply.header('access-control-allow-headers', ALLOWED);
      reply.header('access-control-max-age', '600');
      return reply.status(204).send();
    }
  });
  // Without a route Fastify would answer a preflight 404 before the hook ran; the hook answers it.
  app.options('/v1/*', { schema: { hide: true } }, async (_req, reply) => reply.status(204).send());
}

/**
 * The head of a server-sent event stream written on the raw socket: the headers the hooks
 * already set on the reply (request id, rate limits, CORS) and the stream's own. A hijacked
 * reply sends none of the reply's headers by itself.
 */
export function eventStreamHead(req: FastifyRequest, reply: FastifyReply): Record<string, string | number | string[]> {
  const set: Record<string, string | number | string[]> = {};
  for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) set[k] = v;
  return {
    ...set,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': req.id,
  };
}
