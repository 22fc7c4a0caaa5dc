import { hashApiKey, type Team, type TeamStore } from '@clickvid/core';
import type { FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    team: Team;
    /** A digest of the caller's API key, set with `team`: what rate limits count by. */
    apiKeyId: string;
  }
}

const CACHE_MS = 10_000;

/**
 * Bearer-key authentication. Lookups are cached in-process for a few seconds so the
 * submit path costs one Redis round trip (and a sha256) less; a revoked key stops
 * working within 10 s.
 */
export function createAuthenticator(teams: TeamStore) {
  const cache = new Map<string, { team: Team | null; keyId: string; at: number }>();
  return async function authenticate(req: FastifyRequest): Promise<void> {
    const header = req.headers.authorization;
    if (!header) throw new ApiError('missing_api_key');
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) throw new ApiError('invalid_api_key', 'Authorization must be "Bearer <api key>".');
    const key = m[1]!;
    const now = Date.now();
    let hit = cache.get(key);
    if (!hit || now - hit.at > CACHE_MS) {
      hit = { team: await teams.authenticate(key), keyId: hashApiKey(key).slice(0, 32), at: now };
      if (cache.size > 10_000) cache.clear();
      cache.set(key, hit);
    }
    if (!hit.team) throw new ApiError('invalid_api_key');
    req.team = hit.team;
    req.apiKeyId = hit.keyId;
  };
}
