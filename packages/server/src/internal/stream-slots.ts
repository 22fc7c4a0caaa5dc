import { keys, type Redis } from '@clickvid/core';

/**
 * Takes a slot if fewer than the limit are held: drops expired leases, counts, adds ours.
 * KEYS[1] the team's slot set; ARGV: now ms, lease expiry ms, limit, slot id, key TTL ms.
 */
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`;

const LEASE_MS = 30_000;

/**
 * Concurrent event streams per team, counted in Redis so the cap holds across servers.
 * Each open stream holds a lease it renews; a server that dies without closing its streams
 * frees their slots when the leases run out (30 s), rather than holding them for ever.
 */
export class StreamSlots {
  constructor(
    private readonly redis: Redis,
    private readonly limit: number,
  ) {}

  /** A held slot (renew it while the stream is open, release it at the end), or null when the team is at its limit. */
  async acquire(team: string, id: string): Promise<{ renew(): Promise<void>; release(): Promise<void> } | null> {
    const key = keys.teamStreams(team);
    const now = Date.now();
    const ok = await this.redis.eval(ACQUIRE, 1, key, now, now + LEASE_MS, this.limit, id, LEASE_MS * 2);
    if (ok !== 1) return null;
    return {
      renew: async () => {
        await this.redis.zadd(key, 'XX', Date.now() + LEASE_MS, id);
        await this.redis.pexpire(key, LEASE_MS * 2);
      },
      release: async () => {
        await this.redis.zrem(key, id);
      },
    };
  }

  /** How often a holder renews: three times per lease. */
  static readonly RENEW_MS = LEASE_MS / 3;
}
