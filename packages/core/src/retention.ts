import { Quality } from '@clickvid/contracts';
import type { Redis } from 'ioredis';
import { keys } from './keys.js';
import type { Logger } from './logger.js';
import type { Storage } from './storage/types.js';

/**
 * How long stored files and job records are kept (config `retention`). A job's files live
 * `filesS[quality]` from the moment it ends (its `expires_at`); its record, asset records
 * and index entry live `graceS` longer, so an expired asset answers 410, not 404.
 */
export type Retention = Readonly<{ filesS: Readonly<Record<Quality, number>>; graceS: number }>;

/**
 * The sweeper drops a record at `expires_at + grace`; its Redis TTL is a day later, a
 * backstop for a deployment where no sweeper ran (the sweeper releases what the record holds).
 */
export const RECORD_TTL_MARGIN_S = 86_400;

/** Storage keys start with the job's tier, so bucket lifecycle rules can tell drafts from finals. */
export const tierPrefix = (quality: Quality) => `${quality}/`;

/**
 * The files a rendering attempt stores: the video, its poster, and the latents the job ended with
 * (a draft's, for a final promoted from it to start from; see the worker's start-latents.ts).
 */
export const ATTEMPT_FILES = ['video.mp4', 'poster.png', 'latents.f32'] as const;

/**
 * Files of one attempt live under their own prefix (`<tier>/jobs/<id>/<token>/`), so attempts
 * never touch each other's files and lifecycle rules can tell the tiers apart.
 */
export const attemptKey = (quality: Quality, jobId: string, token: string, file: string) => `${tierPrefix(quality)}jobs/${jobId}/${token}/${file}`;

/** The folder of a stored file (`final/jobs/<id>/<token>/`): the unit the sweeper deletes and hits point at. */
export const fileSetOf = (storageKey: string) => storageKey.slice(0, storageKey.lastIndexOf('/') + 1);

/** Files stored before keys carried the tier (`jobs/<id>/…`) are not managed: never swept, always hit. */
export const isManagedFileSet = (set: string) => Quality.options.some((q) => set.startsWith(tierPrefix(q)));

export interface Expiry {
  /** When the job's files go (ms). */
  expiresMs: number;
  /** When the sweeper drops its record, asset records and index entry (ms). */
  dropMs: number;
  /** The record's Redis TTL (s): past the drop, as a backstop. */
  recordTtlS: number;
}

/** The expiry of a job of `quality` whose files are kept from `fromMs`, capped at `capMs` (a hit on files that cannot outlive it). */
export function jobExpiry(r: Retention, quality: Quality, fromMs: number, capMs = Infinity, nowMs = Date.now()): Expiry {
  const expiresMs = Math.min(fromMs + r.filesS[quality] * 1000, capMs);
  const dropMs = expiresMs + r.graceS * 1000;
  return { expiresMs, dropMs, recordTtlS: Math.max(1, Math.ceil((dropMs - nowMs) / 1000) + RECORD_TTL_MARGIN_S) };
}

/** The longest a record lives: the per-team index keeps ids that young. */
export const longestRecordS = (r: Retention) => Math.max(...Object.values(r.filesS)) + r.graceS + RECORD_TTL_MARGIN_S;

/** Sweeps claimed at most per call and kind: bounded work, whatever the backlog. */
const PER_PASS = 200;
/** A claimed file set not confirmed deleted within this is claimed again (its sweeper died). */
export const SWEEP_LEASE_MS = 5 * 60_000;

/**
 * Claims the file sets whose expiry has passed: moves them, atomically, to the deleting set
 * with a lease, together with leases of sweepers that died. A cache hit that extends a set
 * (lifecycle scripts: ZADD GT) refuses one that is no longer in the live set, so a file set
 * is either extended in time or deleted, never both.
 */
const CLAIM_FILES = `
local out = {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])) do
  redis.call('ZREM', KEYS[1], m)
  redis.call('ZADD', KEYS[2], ARGV[2], m)
  out[#out + 1] = m
end
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])) do
  redis.call('ZADD', KEYS[2], ARGV[2], m)
  out[#out + 1] = m
end
return out
`;

/**
 * Drops the job records whose time has come, each with what it holds: its quota reservation
 * (a job that never reached a terminal state still holds its estimate), its lane entries, its
 * asset records and its entry in the team's index. Members are `<team> <job id>`, so the
 * index entry goes even when the record is already gone.
 */
const DROP_JOBS = `
local n = 0
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])) do
  redis.call('ZREM', KEYS[1], m)
  local sp = string.find(m, ' ', 1, true)
  local team, id = string.sub(m, 1, sp - 1), string.sub(m, sp + 1)
  local K = 'cv:job:' .. id
  if redis.call('EXISTS', K) == 1 then
    local reserved = tonumber(redis.call('HGET', K, '_reserve_us') or '0') or 0
    if reserved ~= 0 then
      redis.call('HINCRBY', 'cv:usage:' .. team .. ':' .. (redis.call('HGET', K, '_day') or ''), 'reserved_us', -reserved)
    end
    local lane = cjson.decode(redis.call('HGET', K, 'lane') or '"draft"')
    redis.call('ZREM', 'cv:lane:' .. lane .. ':queued', id)
    redis.call('ZREM', 'cv:lane:' .. lane .. ':running', id)
    local assets = cjson.decode(redis.call('HGET', K, 'assets') or 'null')
    if type(assets) == 'table' then
      for _, a in pairs(assets) do redis.call('DEL', 'cv:asset:' .. a) end
    end
    redis.call('DEL', K)
  end
  redis.call('ZREM', 'cv:team:' .. team .. ':jobs', id)
  n = n + 1
end
return n
`;

export interface SweepReport {
  /** File sets deleted from storage. */
  fileSets: number;
  /** Job records dropped (with their asset records and index entries). */
  jobs: number;
}

/**
 * One pass of the sweeper: deletes the file sets whose expiry has passed (no live job points
 * at them: every hit pushes its set's expiry to its own), then drops the job records past their
 * grace. Safe on any number of replicas at once: every item is claimed by one atomic script.
 * `now` is a parameter so tests can sweep "later" without waiting.
 */
export async function sweepOnce(redis: Redis, storage: Storage, opts: { now?: number } = {}): Promise<SweepReport> {
  const now = opts.now ?? Date.now();
  const claimed = (await redis.eval(CLAIM_FILES, 2, keys.retentionFiles(), keys.retentionDeleting(), now, now + SWEEP_LEASE_MS, PER_PASS)) as string[];
  let fileSets = 0;
  for (const set of new Set(claimed)) {
    // Deleting an absent file is no error, so a set half-deleted by a sweeper that died is finished here.
    await Promise.all(ATTEMPT_FILES.map((f) => storage.delete(`${set}${f}`)));
    await redis.zrem(keys.retentionDeleting(), set);
    fileSets++;
  }
  const jobs = (await redis.eval(DROP_JOBS, 1, keys.retentionJobs(), now, PER_PASS)) as number;
  return { fileSets, jobs };
}

/** Runs {@link sweepOnce} every `intervalMs` (0 = never). Answers stop(). */
export function startSweeper(opts: { redis: Redis; storage: Storage; intervalMs: number; logger: Logger }): () => void {
  if (opts.intervalMs <= 0) return () => undefined;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweepOnce(opts.redis, opts.storage)
      .then((r) => {
        if (r.fileSets || r.jobs) opts.logger.info(r, 'retention sweep');
      })
      .catch((err: unknown) => opts.logger.warn({ err }, 'retention sweep failed'))
      .finally(() => (running = false));
  }, opts.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
