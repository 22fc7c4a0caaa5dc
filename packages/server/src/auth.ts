import { hashApiKey, keys, type KeyAuth, type Redis, type Team, type TeamStore } from '@clickvid/core';
import type { FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    team: Team;
    /** The id of the caller's API key, set with `team`: what rate limits count by. */
    apiKeyId: string;
  }
}

/** How long a lookup is trusted without a word from pub/sub; eviction messages make revocation near-instant. */
export const AUTH_CACHE_MS = 10_000;
/** How often `last_used_at` is written: batched, so a request costs no write. */
export const LAST_USED_FLUSH_MS = 15_000;
const MAX_ENTRIES = 10_000;

interface Entry {
  auth: KeyAuth | null;
  at: number;
}

/** Parses `Authorization: Bearer <key>`, or throws the catalogue's 401. */
export function bearerKey(req: FastifyRequest): string {
  const header = req.headers.authorization;
  if (!header) throw new ApiError('missing_api_key');
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  if (!m) throw new ApiError('invalid_api_key', 'Authorization must be "Bearer <api key>".');
  return m[1]!;
}

/**
 * Bearer-key authentication with an in-process cache keyed by the key's sha256, so a
 * submit costs no Redis round trip for auth. A revocation or settings change arrives
 * as a message on `cv:events:auth` and evicts the entry on every server. A missed
 * message must not keep a revoked key alive: while the subscriber is down nothing is
 * cached, and the cache is flushed whenever it has subscribed again.
 */
export class Authenticator {
  private readonly cache = new Map<string, Entry>();
  private readonly lastUsed = new Map<string, number>();
  /** True while the subscription is known to be live; only then may lookups be cached. */
  private live = false;
  /** Counts eviction messages: a lookup that saw one arrive while it ran is not cached. */
  private evictions = 0;
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly teams: TeamStore,
    private readonly sub: Redis,
  ) {}

  async start(): Promise<void> {
    this.sub.on('message', (channel: string, msg: string) => {
      if (channel === keys.authEvents()) this.evict(msg);
    });
    // ioredis resubscribes by itself after a reconnect; subscribing again here tells us
    // when that is done, which is when the cache may be trusted again.
    this.sub.on('ready', () => void this.resubscribe());
    this.sub.on('close', () => this.goStale());
    this.sub.on('reconnecting', () => this.goStale());
    await this.resubscribe();
    this.flushTimer = setInterval(() => void this.flushLastUsed().catch(() => undefined), LAST_USED_FLUSH_MS);
    this.flushTimer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.flushTimer);
    await this.flushLastUsed().catch(() => undefined);
  }

  /** Sets `req.team` and `req.apiKeyId`, or throws 401. Returns false for a key that is unknown or revoked. */
  async authenticate(req: FastifyRequest): Promise<boolean> {
    const key = bearerKey(req);
    const sha = hashApiKey(key);
    const now = Date.now();
    let hit = this.cache.get(sha);
    if (!hit || now - hit.at > AUTH_CACHE_MS || (hit.auth?.expiresAt != null && hit.auth.expiresAt <= now)) {
      // A message that arrives during the lookup evicts an entry that is not there yet:
      // such a lookup (or one that began while stale) may be outdated, so it is not kept.
      const epoch = this.live ? this.evictions : -1;
      hit = { auth: await this.teams.authenticate(key), at: now };
      if (epoch === this.evictions && this.live) {
        if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
        this.cache.set(sha, hit);
      }
    }
    if (!hit.auth) return false;
    req.team = hit.auth.team;
    req.apiKeyId = hit.auth.keyId;
    this.lastUsed.set(sha, now);
    return true;
  }

  /** Writes the batched `last_used_at` stamps. */
  async flushLastUsed(): Promise<void> {
    if (!this.lastUsed.size) return;
    const batch = new Map(this.lastUsed);
    this.lastUsed.clear();
    await this.teams.touchKeys(batch);
  }

  private evict(msg: string): void {
    this.evictions++;
    if (msg.startsWith('key:')) {
      this.cache.delete(msg.slice(4));
    } else if (msg.startsWith('team:')) {
      const team = msg.slice(5);
      for (const [sha, e] of this.cache) if (e.auth?.team.id === team) this.cache.delete(sha);
    } else this.cache.clear();
  }

  private goStale(): void {
    this.live = false;
    this.evictions++;
    this.cache.clear();
  }

  private async resubscribe(): Promise<void> {
    try {
      await this.sub.subscribe(keys.authEvents());
    } catch {
      return; // the next 'ready' tries again
    }
    this.cache.clear();
    this.evictions++;
    this.live = true;
  }
}

/**
 * Admin keys: compared by sha256 against the hashes in the configuration
 * (CLICKVID_ADMIN_KEY_SHA256), so the plaintext lives only with the operator. Returns
 * whether the bearer key is one; with no hash configured the admin API is off.
 */
export function createAdminCheck(hashes: readonly string[]): (req: FastifyRequest) => boolean {
  const allowed = new Set(hashes);
  return (req) => {
    const key = bearerKey(req);
    if (!allowed.size) throw new ApiError('invalid_admin_key', 'The admin API is off: set CLICKVID_ADMIN_KEY_SHA256 to the sha256 of an admin key.');
    return allowed.has(hashApiKey(key));
  };
}
