import type { Tracer, TraceParent, TraceSpan } from '@clickvid/core';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** A request's server span, while it runs. A WeakMap, not a request decoration: nothing changes when tracing is off. */
const spans = new WeakMap<FastifyRequest, TraceSpan>();

/** W3C traceparent: version 00, 32 hex trace id, 16 hex span id, 2 hex flags. */
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * Hooks for one SERVER span per request, named by method and route, continuing the caller's
 * trace when it sends a `traceparent` header. Registered only when tracing is on.
 */
export function httpTracingHooks(tracer: Tracer) {
  const onRequest = async (req: FastifyRequest) => {
    const header = req.headers['traceparent'];
    const parent = typeof header === 'string' && TRACEPARENT.test(header) ? header : null;
    const route = req.routeOptions.url ?? 'unmatched';
    spans.set(req, tracer.start(`${req.method} ${route}`, {
      kind: 'server', parent, attributes: { 'http.request.method': req.method, 'http.route': route, 'clickvid.request_id': req.id },
    }));
  };
  const onResponse = async (req: FastifyRequest, reply: FastifyReply) => {
    const span = spans.get(req);
    if (!span) return;
    span.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) span.fail(new Error(`answered ${reply.statusCode}`));
    span.end();
  };
  return { onRequest, onResponse };
}

/** The context of the request's span (a job submitted by it carries this to the worker), or null. */
export function requestTrace(req: FastifyRequest): TraceParent | null {
  return spans.get(req)?.context ?? null;
}
