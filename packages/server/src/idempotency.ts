import { createHash } from 'node:crypto';
import type { ErrorCode } from '@clickvid/contracts';
import { keys, type Redis } from '@clickvid/core';
import { ApiError } from './errors.js';

const TTL_S = 24 * 3600;
const PENDING_WAIT_MS = 10_000;

interface Record_ {
  fingerprint: string;
  state: 'pending' | 'done';
  status?: number;
  body?: unknown;
  /** A deterministic refusal, replayed as the same error. */
  error?: { code: string; message: string; param?: string; details?: Record<string, unknown> };
}

export type IdempotentResult = { status: number; body: unknown; replayed: boolean };

/**
 * Idempotency-Key handling, scoped to the team and kept 24 h. The first request claims
 * the key with SET NX; racing duplicates wait for its response and replay it. The same
 * key with another body is refused (422). 4xx outcomes are stored too (they'd recur);
 * 5xx release the key so the client's retry runs again.
 */
export class Idempotency {
  constructor(private readonly redis: Redis) {}

  async run(
    team: string,
    key: string,
    request: unknown,
    handler: () => Promise<{ status: number; body: unknown }>,
  ): Promise<IdempotentResult> {
    if (key.length > 255 || key.length < 1) {
      throw new ApiError('validation_failed', 'Idempotency-Key must be 1 to 255 characters.', { param: 'Idempotency-Key' });
    }
    const rkey = keys.idempotency(team, createHash('sha256').update(key).digest('hex'));
    const fingerprint = createHash('sha256').update(canonical(request)).digest('hex');
    const claimed = await this.redis.set(rkey, JSON.stringify({ fingerprint, state: 'pending' } satisfies Record_), 'EX', TTL_S, 'NX');
    if (claimed) {
      try {
        const res = await handler();
        await this.redis.set(rkey, JSON.stringify({ fingerprint, state: 'done', ...res } satisfies Record_), 'EX', TTL_S);
        return { ...res, replayed: false };
      } catch (err) {
        const api = err instanceof ApiError ? err : null;
        if (api && api.status < 500 && api.code !== 'rate_limited' && api.code !== 'quota_exceeded') {
          // Deterministic refusals replay as the same error.
          const error = { code: api.code, message: api.message, param: api.opts.param, details: api.opts.details };
          await this.redis.set(rkey, JSON.stringify({ fingerprint, state: 'done', error } satisfies Record_), 'EX', TTL_S);
        } else {
          await this.redis.del(rkey);
        }
        throw err;
      }
    }
    const deadline = Date.now() + PENDING_WAIT_MS;
    for (;;) {
      const raw = await this.redis.get(rkey);
      if (!raw) {
        // The first request failed with a 5xx and released the key: run this one.
        return this.run(team, key, request, handler);
      }
      const rec = JSON.parse(raw) as Record_;
      if (rec.fingerprint !== fingerprint) {
        throw new ApiError('idempotency_key_reused', 'This Idempotency-Key was already used with a different request body.', {
          param: 'Idempotency-Key',
        });
      }
      if (rec.state === 'done') {
        const e = rec.error;
        if (e) throw new ApiError(e.code as ErrorCode, e.message, { param: e.param, details: e.details, headers: { 'idempotent-replayed': 'true' } });
        return { status: rec.status!, body: rec.body, replayed: true };
      }
      if (Date.now() > deadline) {
        throw new ApiError('idempotency_key_in_use', undefined, { headers: { 'retry-after': '1' } });
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

/** JSON with sorted keys, so {"a":1,"b":2} and {"b":2,"a":1} are the same request. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
