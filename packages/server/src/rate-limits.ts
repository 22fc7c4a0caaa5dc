import rateLimit from '@fastify/rate-limit';
import type { Config, Redis } from '@clickvid/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ApiError } from './errors.js';
import type { RedisAvailability } from './internal/redis-availability.js';

/** The app as buildApp makes it (a pino logger, zod types). */
type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger, ZodTypeProvider>;
type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

/** Reads and creates are counted apart: polling a job must not use up the budget for submits. */
const isRead = (req: FastifyRequest) => req.method === 'GET' || req.method === 'HEAD';

/** Addresses over their failed-auth limit, answered without Redis until their window ends. */
const MAX_BLOCKED = 10_000;

/**
 * Rate limits counted in Redis (one fixed-window counter per key and minute, by
 * @fastify/rate-limit's Redis store), so every replica enforces the same limit. Per
 * API key for authenticated calls (the team's `rate_limits`), per client address for
 * failed authentications and signed asset downloads. Every limited response carries
 * the draft-spec `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
 * headers; a refusal is 429 `rate_limited` with `Retry-After`. If Redis fails, the
 * request is let through: the limit protects the service, it is not a reason to stop it.
 */
export async function registerRateLimits(app: App, redis: Redis, config: Config, availability: RedisAvailability) {
  // global: false: the plugin only provides the Redis-backed counters; the hooks below decide what counts.
  // Errors come back to enforce(), which lets the request through and tells `availability`.
  await app.register(rateLimit, { global: false, redis, nameSpace: 'cv:rl:', skipOnError: false });
  const minute = 60_000;
  const perKey = app.createRateLimit({
    timeWindow: minute,
    keyGenerator: (req) => `key:${req.apiKeyId}:${isRead(req) ? 'read' : 'create'}`,
    max: (req) => (isRead(req) ? req.team.settings.rate_limits.reads_per_min : req.team.settings.rate_limits.creates_per_min),
  });
  const failedAuth = app.createRateLimit({ timeWindow: minute, max: config.addressRateLimits.unauthPerMin, keyGenerator: (req) => `unauth:${req.ip}` });
  const content = app.createRateLimit({ timeWindow: minute, max: config.addressRateLimits.contentPerMin, keyGenerator: (req) => `content:${req.ip}` });
  const blocked = new Map<string, number>();

  return {
    /** After authentication: the key's budget for this kind of request. */
    perKey: (req: FastifyRequest, reply: FastifyReply) => enforce(perKey, req, reply, isRead(req) ? 'reads' : 'creates', availability),
    /** Signed asset downloads (no key): per address. */
    content: (req: FastifyRequest, reply: FastifyReply) => enforce(content, req, reply, 'downloads', availability),
    /**
     * A request with an unknown or revoked key: counted per address, so a flood of
     * guessed keys turns into cheap 429s. Throws either way.
     */
    async refuseKey(req: FastifyRequest, reply: FastifyReply, refusal: ApiError): Promise<never> {
      const until = blocked.get(req.ip);
      if (until !== undefined) {
        if (until > Date.now()) throw limited('failed authentications', Math.ceil((until - Date.now()) / 1000), config.addressRateLimits.unauthPerMin);
        blocked.delete(req.ip);
      }
      try {
        await enforce(failedAuth, req, reply, 'failed authentications', availability);
      } catch (err) {
        if (err instanceof ApiError && err.code === 'rate_limited') {
          if (blocked.size >= MAX_BLOCKED) blocked.clear();
          blocked.set(req.ip, Date.now() + Number(err.opts.headers?.['retry-after'] ?? 1) * 1000);
        }
        throw err;
      }
      throw refusal;
    },
  };
}

export type RateLimits = Awaited<ReturnType<typeof registerRateLimits>>;

async function enforce(limiter: Limiter, req: FastifyRequest, reply: FastifyReply, what: string, availability: RedisAvailability): Promise<void> {
  // Without Redis there is nothing to count in; the limit protects the service, it is not a reason to stop it.
  if (availability.down) return;
  let r: Awaited<ReturnType<Limiter>>;
  try {
    r = await limiter(req);
  } catch (err) {
    availability.report(err);
    return;
  }
  if (r.isAllowed) return;
  reply.header('ratelimit-limit', r.max).header('ratelimit-remaining', r.remaining).header('ratelimit-reset', r.ttlInSeconds);
  if (r.isExceeded) throw limited(what, r.ttlInSeconds, r.max);
}

function limited(what: string, retryAfterS: number, max: number): ApiError {
  const after = Math.max(1, retryAfterS);
  return new ApiError('rate_limited', `Rate limit of ${max} ${what} per minute exceeded; retry in ${after} s.`, {
    headers: { 'retry-after': String(after), 'ratelimit-limit': String(max), 'ratelimit-remaining': '0', 'ratelimit-reset': String(after) },
  });
}
