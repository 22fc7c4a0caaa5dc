import { ERROR_CATALOGUE, type ErrorBody, type ErrorCode } from '@clickvid/contracts';
import { isRedisUnavailable, ModelError, TeamStoreError } from '@clickvid/core';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';

/** An error the API returns on purpose: a code from the catalogue, and what the caller did. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly opts: { param?: string; details?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(message ?? ERROR_CATALOGUE[code].message);
    this.name = 'ApiError';
  }

  get status(): number {
    return ERROR_CATALOGUE[this.code].status;
  }
}

export function errorBody(code: ErrorCode, message: string, requestId: string, param?: string, details?: Record<string, unknown>): ErrorBody {
  return {
    error: {
      type: ERROR_CATALOGUE[code].type,
      code,
      message,
      request_id: requestId,
      ...(param ? { param } : {}),
      ...(details ? { details } : {}),
    },
  };
}

/** Maps anything thrown in a route to the contract's error body. The one place that does. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ModelError) return new ApiError(err.code, err.message, { param: err.param, details: err.details });
  if (err instanceof TeamStoreError) return new ApiError(err.code, err.message);
  const fe = err as FastifyError;
  if (hasZodFastifySchemaValidationErrors(fe)) {
    const first = fe.validation[0];
    const where = fe.validationContext === 'body' ? '' : `${fe.validationContext}.`;
    const param = first ? `${where}${first.instancePath.replace(/^\//, '').replace(/\//g, '.')}` || undefined : undefined;
    const msg = fe.validation.map((v) => `${v.instancePath.replace(/^\//, '').replace(/\//g, '.') || fe.validationContext}: ${v.message}`).join('; ');
    return new ApiError('validation_failed', msg, { param });
  }
  // Redis unreachable (closed, refused, timed out, still loading its data): the caller should
  // retry, and nothing of this request was left to run later (see createServerRedis).
  if (isRedisUnavailable(err)) return unavailable();
  switch (fe.code) {
    // Framework errors (Fastify's frameworkErrors option routes them here): raised before a route matched.
    case 'FST_ERR_BAD_URL':
      return new ApiError('malformed_url', 'The URL has malformed percent-encoding.');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ApiError('uri_too_long', 'A path segment is over 100 characters; no id is that long.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('payload_too_large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('unsupported_media_type');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError('invalid_request', 'The body is not valid JSON.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError('invalid_request', 'The body is empty; send a JSON object.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError('invalid_request', 'Content-Length does not match the body.');
  }
  if (fe.statusCode === 429) return new ApiError('rate_limited', undefined, { headers: {} });
  if (fe.statusCode === 400 && (fe as { name?: string }).name === 'SyntaxError') {
    return new ApiError('invalid_request', `The body is not valid JSON: ${fe.message}`);
  }
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) return new ApiError('invalid_request', fe.message);
  return new ApiError('internal_error');
}

/** 503 service_unavailable: the store is unreachable; a retry a moment later may work. */
export function unavailable(): ApiError {
  return new ApiError('service_unavailable', 'The job store is unreachable; retry shortly.', { headers: { 'retry-after': '2' } });
}

export function sendError(req: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const api = toApiError(err);
  if (api.code === 'internal_error') req.log.error({ err }, 'unhandled error');
  // Framework errors are raised before the onRequest hooks that set it.
  reply.header('x-request-id', req.id);
  for (const [k, v] of Object.entries(api.opts.headers ?? {})) reply.header(k, v);
  return reply.status(api.status).type('application/json').send(errorBody(api.code, api.message, req.id, api.opts.param, api.opts.details));
}
