import { Job, type JobError, type JobStatus, type Lane } from '@clickvid/contracts';
import type { Redis } from 'ioredis';
import { idBefore } from './ids.js';
import { keys } from './keys.js';

/** A job as stored: the public Job plus the owning team and the lane it runs in. */
export interface StoredJob {
  job: Job;
  team: string;
  lane: Lane;
}

/** Moves a job between statuses only from the allowed ones; one round trip, atomic. */
const TRANSITION = `
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return -1 end
local n = tonumber(ARGV[1])
for i = 2, n + 1 do
  if cur == ARGV[i] then
    for j = n + 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[j], ARGV[j + 1]) end
    return 1
  end
end
return 0
`;

/** Progress of a running job: set and published in one round trip; ignored once it left `running`. */
const PROGRESS = `
if redis.call('HGET', KEYS[1], 'status') ~= '"running"' then return 0 end
redis.call('HSET', KEYS[1], 'progress', ARGV[1])
redis.call('PUBLISH', ARGV[2], cjson.encode({id = ARGV[3], team = redis.call('HGET', KEYS[1], 'team'), status = 'running', progress = tonumber(ARGV[1])}))
return 1
`;

export interface JobUpdate {
  id: string;
  team: string;
  status: JobStatus;
  progress: number;
}

const enc = (v: unknown) => JSON.stringify(v);

/**
 * Job records in Redis. Each property is a hash field holding JSON, so a status
 * change rewrites only the fields it touches and can be made conditional in Lua.
 * Every change is published on one channel for server-sent events.
 */
export class JobStore {
  constructor(
    private readonly redis: Redis,
    private readonly ttlS: number,
  ) {
    redis.defineCommand('cvTransition', { numberOfKeys: 1, lua: TRANSITION });
    redis.defineCommand('cvProgress', { numberOfKeys: 1, lua: PROGRESS });
  }

  /** Stores a new job. Returns its queue position (null unless queued), read in the same transaction. */
  async create(stored: StoredJob): Promise<number | null> {
    const [res] = await this.createMany([stored]);
    if (res instanceof Error) throw res;
    return res ?? null;
  }

  /**
   * Stores many new jobs in one transaction (one round trip). Each gets its own outcome,
   * in order: its queue position (null unless queued), or the error of its own commands,
   * so one job that cannot be written does not fail the rest.
   */
  async createMany(jobs: StoredJob[]): Promise<Array<number | null | Error>> {
    const tx = this.redis.multi();
    const sizes = jobs.map(({ job, team, lane }) => {
      const before = tx.length;
      const fields: Record<string, string> = { team, lane: enc(lane) };
      for (const [k, v] of Object.entries(job)) fields[k] = enc(v);
      tx.hset(keys.job(job.id), fields)
        .expire(keys.job(job.id), this.ttlS)
        // Score 0: the index is ordered by id, which sorts by creation (see newId), so cursors are exact.
        .zadd(keys.teamJobs(team), 0, job.id)
        // The index lives as long as the records it points to: ids older than the TTL go
        // (a lexical range, since ids start with their time), and the key expires with its newest job.
        .zremrangebylex(keys.teamJobs(team), '-', `(${idBefore(Date.now() - this.ttlS * 1000)}`)
        .expire(keys.teamJobs(team), this.ttlS);
      if (job.status === 'queued') tx.zadd(keys.laneQueued(lane), Date.parse(job.created_at), job.id).zrank(keys.laneQueued(lane), job.id);
      return tx.length - before;
    });
    const res = await tx.exec();
    if (!res) throw new Error('the job transaction was discarded');
    let at = 0;
    return jobs.map(({ job }, i) => {
      const own = res.slice(at, (at += sizes[i]!));
      const err = own.find(([e]) => e)?.[0];
      if (err) return err;
      return job.status === 'queued' ? ((own[own.length - 1]![1] as number | null) ?? null) : null;
    });
  }

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

  /**
   * Sets `patch` only if the job's status is one of `from`. Returns the job after the
   * change, or null when the status did not allow it (or the job is gone).
   */
  async transition(id: string, from: JobStatus[], patch: Partial<Job>): Promise<StoredJob | null> {
    const args: string[] = [String(from.length), ...from.map(enc)];
    for (const [k, v] of Object.entries(patch)) args.push(k, enc(v));
    const ok = await (this.redis as unknown as { cvTransition(key: string, ...a: string[]): Promise<number> }).cvTransition(
      keys.job(id),
      ...args,
    );
    if (ok !== 1) return null;
    const stored = await this.get(id);
    if (stored) {
      if (patch.status && patch.status !== 'queued') await this.redis.zrem(keys.laneQueued(stored.lane), id);
      await this.publish(stored);
    }
    return stored;
  }

  /** queued → running. Null if the job was canceled (or taken) meanwhile. */
  async start(id: string, attempt: number): Promise<StoredJob | null> {
    return this.transition(id, ['queued', 'running'], {
      status: 'running',
      started_at: new Date().toISOString(),
      queue_position: null,
      attempts: attempt,
    });
  }

  /**
   * Progress of a running job (0..1), which doubles as the cancellation check between a
   * worker's stages: false, and nothing written, once the job has left `running`.
   */
  async progress(id: string, progress: number): Promise<boolean> {
    const p = String(Math.max(0, Math.min(1, progress)));
    return (await (this.redis as unknown as { cvProgress(key: string, ...a: string[]): Promise<number> }).cvProgress(keys.job(id), p, keys.jobEvents(), id)) === 1;
  }

  async isCanceled(id: string): Promise<boolean> {
    const s = await this.redis.hget(keys.job(id), 'status');
    return s === null || s === enc('canceled');
  }

  async succeed(id: string, patch: Pick<Job, 'assets' | 'usage'> & Partial<Job>): Promise<StoredJob | null> {
    return this.transition(id, ['running', 'queued'], {
      ...patch,
      status: 'succeeded',
      progress: 1,
      queue_position: null,
      finished_at: new Date().toISOString(),
    });
  }

  async fail(id: string, error: JobError, usage: Job['usage'] = null): Promise<StoredJob | null> {
    return this.transition(id, ['running', 'queued'], {
      status: 'failed',
      error,
      usage,
      queue_position: null,
      finished_at: new Date().toISOString(),
    });
  }

  async cancel(id: string): Promise<StoredJob | null> {
    return this.transition(id, ['queued', 'running'], {
      status: 'canceled',
      queue_position: null,
      finished_at: new Date().toISOString(),
    });
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

  private async publish(s: StoredJob): Promise<void> {
    const msg: JobUpdate = { id: s.job.id, team: s.team, status: s.job.status, progress: s.job.progress };
    await this.redis.publish(keys.jobEvents(), JSON.stringify(msg));
  }
}

function parseStored(raw: Record<string, string>): StoredJob {
  const { team, lane, ...rest } = raw;
  const obj: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) obj[k] = JSON.parse(v);
  return { job: Job.parse(obj), team: team!, lane: JSON.parse(lane!) as Lane };
}
