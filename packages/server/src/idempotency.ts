import { createHash } from 'node:crypto';
import type { ErrorCode } from '@clickvid/contracts';
import { canonicalJson, keys, type Redis } from '@clickvid/core';
import { ApiError } from './errors.js';
import { Claim, CLAIM_TTL_MS } from './internal/claim.js';

const TTL_S = 24 * 3600;
const PENDING_WAIT_MS = 10_000;
/** Visible ASCII and spaces, 1 to 255 characters (what the SDK and curl users send: UUIDs, ULIDs, names). */
const KEY_FORMAT = /^[\x20-\x7e]{1,255}$/;

interface Record_ {
  fingerprint: string;
  state: 'pending' | 'done';
  /** While pending: who claimed it, so two claims with the same body differ. */
  claim?: string;
  status?: number;
  body?: unknown;
  /** A deterministic refusal, replayed as the same error. */
  error?: { code: string; message: string; param?: string; details?: Record<string, unknown> };
}

export type IdempotentResult = { status: number; body: unknown; replayed: boolean };

/** Checks an `Idempotency-Key` header: absent is fine, present must be usable (an empty one is a client bug, not "no key"). */
export function checkIdempotencyKey(key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  if (!KEY_FORMAT.test(key)) {
    throw new ApiError('invalid_idempotency_key', `Idempotency-Key must be 1 to 255 visible ASCII characters; got ${key.length} characters.`, {
      param: 'Idempotency-Key',
    });
  }
  return key;
}

/**
 * Idempotency-Key handling, scoped to the team and kept 24 h. The first request claims
 * the key for a few seconds (renewed while it runs, see Claim); racing duplicates wait
 * for its response and replay it. Only a stored response lives 24 h, so a server that
 * dies mid-request blocks the key for at most `claimTtlMs`, not a day. The same key with
 * another body is refused (422). 4xx outcomes are stored too (they'd recur); 5xx release
 * the key so the client's retry runs again.
 */
export class Idempotency {
  private readonly claimTtlMs: number;

  constructor(
    private readonly redis: Redis,
    opts: { claimTtlMs?: number } = {},
  ) {
    this.claimTtlMs = opts.claimTtlMs ?? CLAIM_TTL_MS;
  }

  async run(
    team: string,
    key: string,
    request: unknown,
    handler: () => Promise<{ status: number; body: unknown }>,
  ): Promise<IdempotentResult> {
    checkIdempotencyKey(key);
    const rkey = keys.idempotency(team, createHash('sha256').update(key).digest('hex'));
    // Canonical JSON (keys sorted): {"a":1,"b":2} and {"b":2,"a":1} are the same request.
    const fingerprint = createHash('sha256').update(canonicalJson(request)).digest('hex');
    const deadline = Date.now() + PENDING_WAIT_MS;
    for (;;) {
      const pending: Record_ = { fingerprint, state: 'pending', claim: Claim.token() };
      const claim = await Claim.take(this.redis, rkey, JSON.stringify(pending), this.claimTtlMs);
      if (claim) return this.runClaimed(claim, fingerprint, handler);
      const replay = await this.waitForOther(rkey, fingerprint, deadline);
      if (replay) return replay;
      // The claim vanished without a response (a 5xx released it, or its server died): try again.
    }
  }

  private async runClaimed(claim: Claim, fingerprint: string, handler: () => Promise<{ status: number; body: unknown }>): Promise<IdempotentResult> {
    let res: { status: number; body: unknown };
    try {
      res = await handler();
    } catch (err) {
      const api = err instanceof ApiError ? err : null;
      if (api && api.status < 500 && api.code !== 'rate_limited' && api.code !== 'quota_exceeded' && api.code !== 'too_many_streams') {
        // Deterministic refusals replay as the same error.
        const error = { code: api.code, message: api.message, param: api.opts.param, details: api.opts.details };
        await claim.commit(JSON.stringify({ fingerprint, state: 'done', error } satisfies Record_), TTL_S).catch(() => claim.abandon());
      } else {
        // If Redis is what failed, the release fails too; the claim then expires on its own.
        await claim.release().catch(() => claim.abandon());
      }
      throw err;
    }
    // The job exists now: a failure to store the response must not turn its 202 into a 503.
    await claim.commit(JSON.stringify({ fingerprint, state: 'done', ...res } satisfies Record_), TTL_S).catch(() => claim.abandon());
    return { ...res, replayed: false };
  }

  /** Waits for the claimant's response. Null when the claim went away without one. */
  private async waitForOther(rkey: string, fingerprint: string, deadline: number): Promise<IdempotentResult | null> {
    for (;;) {
      const raw = await this.redis.get(rkey);
      if (!raw) return null;
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

