import { Job, type JobStatus, type Lane } from '@clickvid/contracts';
import type { Redis } from 'ioredis';
import { keys } from './keys.js';

/** A job as stored: the public Job plus the owning team and the lane it runs in. */
export interface StoredJob {
  job: Job;
  team: string;
  lane: Lane;
}

export interface JobUpdate {
  id: string;
  team: string;
  status: JobStatus;
  progress: number;
  /** The entry id of the change in the team's event stream (keys.teamEvents). */
  event?: string;
}

/**
 * Reads of job records in Redis. Each property is a hash field holding JSON, so a status
 * change rewrites only the fields it touches, inside a Lua script. Every change is made
 * by {@link JobLifecycle} (lifecycle.ts) and published on one channel for server-sent events.
 */
export class JobStore {
  constructor(private readonly redis: Redis) {}

  async get(id: string): Promise<StoredJob | null> {
    const raw = await this.redis.hgetall(keys.job(id));
    return raw.status ? parseStored(raw) : null;
  }

  /** Many jobs in one round trip, in the order asked; missing ones are dropped. */
  async getMany(ids: string[]): Promise<StoredJob[]> {
    if (ids.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hgetall(keys.job(id));
    const res = (await pipe.exec()) ?? [];
    const out: StoredJob[] = [];
    for (const [err, raw] of res) {
      if (!err && raw && (raw as Record<string, string>).status) out.push(parseStored(raw as Record<string, string>));
    }
    return out;
  }

  /** 0-based position among the lane's queued jobs, or null when not queued. */
  async queuePosition(lane: Lane, id: string): Promise<number | null> {
    return this.redis.zrank(keys.laneQueued(lane), id);
  }

  async queueDepth(lane: Lane): Promise<number> {
    return this.redis.zcard(keys.laneQueued(lane));
  }

  /**
   * A page of a team's jobs, newest first. The cursor is the last id of the previous
   * page (ids sort by creation); filters are applied while scanning, bounded so a
   * sparse filter cannot scan forever.
   */
  async list(
    team: string,
    opts: { limit: number; cursor?: string; filter?: (j: Job) => boolean },
  ): Promise<{ jobs: StoredJob[]; nextCursor: string | null }> {
    const zkey = keys.teamJobs(team);
    const out: StoredJob[] = [];
    const chunk = Math.max(opts.limit * 2, 50);
    let max = opts.cursor ? `(${opts.cursor}` : '+';
    for (let scanned = 0; scanned < 5000; ) {
      const ids = await this.redis.zrevrangebylex(zkey, max, '-', 'LIMIT', 0, chunk);
      scanned += ids.length;
      const jobs = await this.getMany(ids);
      for (const s of jobs) {
        if (opts.filter && !opts.filter(s.job)) continue;
        out.push(s);
        if (out.length === opts.limit) {
          const more = await this.redis.zrevrangebylex(zkey, `(${s.job.id}`, '-', 'LIMIT', 0, 1);
          return { jobs: out, nextCursor: more.length ? s.job.id : null };
        }
      }
      if (ids.length < chunk) return { jobs: out, nextCursor: null };
      max = `(${ids[ids.length - 1]}`;
    }
    // Scanned the bound without filling the page: hand back a cursor to continue from.
    return { jobs: out, nextCursor: max.slice(1) };
  }
}

/** A record's hash as a StoredJob; the lifecycle's own fields (`_attempt`, …) are not part of the Job. */
export function parseStored(raw: Record<string, string>): StoredJob {
  const { team, lane, ...rest } = raw;
  const obj: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) if (!k.startsWith('_')) obj[k] = JSON.parse(v);
  return { job: Job.parse(obj), team: team!, lane: JSON.parse(lane!) as Lane };
}
