import { randomBytes } from 'node:crypto';
import type { Job, JobError, JobStatus, Lane, Usage } from '@clickvid/contracts';
import type { Redis } from 'ioredis';
import type { AssetRecord } from './assets.js';
import { counterFields, histogramFields, jobLabels, type MetricField } from './cluster-metrics.js';
import { DEFAULT_TEAM_EVENTS, type TeamEventsRetention } from './config.js';
import { parseStored, type StoredJob } from './job-store.js';
import { idBefore } from './ids.js';
import { keys } from './keys.js';
import { fieldsOf } from './redis.js';
import { ACCEPT, CANCEL, FINISH, PROGRESS, REQUEUE, START } from './lifecycle-scripts.js';
import { cachedAsset, type CachedOutput } from './output-cache.js';
import { fileSetOf, isManagedFileSet, jobExpiry, longestRecordS, type Retention } from './retention.js';
import { ledgerField, LEDGER_TTL_S, toMicros, utcDay } from './usage-ledger.js';

export interface AcceptSpec {
  job: Job;
  team: string;
  lane: Lane;
  /** GPU-seconds reserved against the team's daily quota until the job ends (its estimate). */
  reserveS: number;
  /** The team's daily quota in GPU-seconds; undefined = none. */
  quotaS: number | undefined;
  /** Set for a job completed at once from the output cache: its asset records, and when the cached files go at the latest (S3: they cannot be kept longer). */
  cached?: { video: AssetRecord; poster: AssetRecord; capMs?: number };
  /** The submit's span (W3C traceparent): kept as `_trace`, copied into the webhook outbox entry. */
  trace?: string;
}

/** `stale`: a hit whose files the sweeper took meanwhile; accept it as a job to render instead. */
export type AcceptOutcome = { ok: true; position: number | null; expiresAt: string | null } | { ok: false; reason: 'quota'; usedS: number } | { ok: false; reason: 'stale' };

/** What a running attempt holds: the record as it started and the token that fences it. */
export interface Attempt {
  stored: StoredJob;
  token: string;
}

/** 1 = done now, 2 = already done by this token (a repeat), 0 = not allowed, -1 = no such job, 3 = a hit on files no longer kept. */
export type Verdict = 'done' | 'repeat' | 'refused' | 'missing' | 'stale';
const VERDICT: Record<number, Verdict> = { 1: 'done', 2: 'repeat', 0: 'refused', [-1]: 'missing', 3: 'stale' };

type Run = (script: string, key: string, spec: object) => Promise<unknown>;
type Raw = Array<string | number | string[]>;

const enc = (v: unknown) => JSON.stringify(v);

/**
 * The one place a job changes state: accept, start, progress, succeed, fail, cancel,
 * complete-from-cache, requeue. Each is one Lua script (lifecycle-scripts.ts) that checks
 * the status, writes the record, keeps the lanes' sets, and for a terminal state writes
 * its effects — ledger, quota, output cache, asset records, cluster counters, webhook
 * outbox — and publishes, atomically. Execution is at least once; these effects happen
 * exactly once, because only the transition into the terminal state writes them.
 *
 * Fencing: start mints an attempt token. Progress and the terminal writes of a worker
 * take effect only under the current token, so a delivery that lost its lock (and
 * whose job another worker took) can neither finish the job nor touch its files.
 */
export class JobLifecycle {
  private readonly run: Run;
  private readonly retention: Retention;

  private readonly ev: { ev_prefix: string; ev_suffix: string; ev_retain_ms: number; ev_max: number };

  /** `retention` from config; a number is one lifetime (s) for every tier's files, with no grace (tests). */
  constructor(
    private readonly redis: Redis,
    retention: Retention | number,
    events: TeamEventsRetention = DEFAULT_TEAM_EVENTS,
  ) {
    this.retention = typeof retention === 'number' ? { filesS: { draft: retention, standard: retention, final: retention }, graceS: 0 } : retention;
    // The scripts build the team's stream key from the team they read: keys.teamEvents around it.
    const [ev_prefix = '', ev_suffix = ''] = keys.teamEvents('\0').split('\0');
    this.ev = { ev_prefix, ev_suffix, ev_retain_ms: events.retainS * 1000, ev_max: events.maxPerTeam };
    const shas = new Map<string, string>();
    // EVALSHA with a fallback to EVAL: one round trip once the script is cached in Redis.
    this.run = async (script, key, spec) => {
      const arg = enc(spec);
      let sha = shas.get(script);
      if (!sha) {
        sha = (await this.redis.script('LOAD', script)) as string;
        shas.set(script, sha);
      }
      try {
        return await this.redis.evalsha(sha, 1, key, arg);
      } catch (err) {
        if (!String((err as Error).message).includes('NOSCRIPT')) throw err;
        return this.redis.eval(script, 1, key, arg);
      }
    };
  }

  private common(id: string) {
    return {
      ...this.ev, id, channel: keys.jobEvents(), deadlines: keys.deadlines(), lane_prefix: 'cv:lane:', usage_prefix: 'cv:usage:', outbox: keys.webhookOutbox(),
      metrics_key: keys.metrics(), ledger_ttl: LEDGER_TTL_S, now: new Date().toISOString(), now_ms: Date.now(), day: utcDay(),
      retention_files: keys.retentionFiles(), retention_jobs: keys.retentionJobs(),
    };
  }

  /** The spec's `expiry`: files kept from now for the tier (capped for a hit), then the record's grace. */
  private expiry(quality: Job['quality'], capMs?: number) {
    const now = Date.now();
    const e = jobExpiry(this.retention, quality, now, capMs, now);
    return {
      at: new Date(e.expiresMs).toISOString(), expires_ms: e.expiresMs, drop_ms: e.dropMs, ttl: e.recordTtlS,
      files_ttl: Math.max(1, Math.ceil((e.expiresMs - now) / 1000)),
    };
  }

  /** The spec fields of a success on another job's files (a cache hit): which file set, and whether it is managed. */
  private hitFiles(video: AssetRecord) {
    const set = fileSetOf(video.storage_key);
    return { hit_files: set, hit_managed: isManagedFileSet(set) };
  }

  /** Writes a new job (queued, or succeeded from the cache) and reserves its estimate, unless the quota is used up. */
  async accept(a: AcceptSpec): Promise<AcceptOutcome> {
    const { job, team, lane } = a;
    const fields: Record<string, string> = { lane: enc(lane) };
    for (const [k, v] of Object.entries(job)) fields[k] = enc(v);
    if (a.trace) fields['_trace'] = a.trace;
    const done = job.status === 'succeeded';
    const longest = longestRecordS(this.retention);
    const expiry = this.expiry(job.quality, a.cached?.capMs);
    if (done) fields['expires_at'] = enc(expiry.at);
    const stored: Job = done ? { ...job, expires_at: expiry.at } : job;
    const spec = {
      ...this.common(job.id), team, lane, fields, expiry,
      team_index: keys.teamJobs(team), index_min_id: idBefore(Date.now() - longest * 1000), index_ttl: longest, score: Date.parse(job.created_at),
      ...(!done && job.deadline_at ? { deadline_ms: Date.parse(job.deadline_at) } : {}),
      reserve_us: done ? 0 : toMicros(a.reserveS), quota_us: a.quotaS === undefined ? -1 : toMicros(a.quotaS),
      ...(done ? { done: true, ...this.successEffects(stored, team, a.cached ? [a.cached.video, a.cached.poster] : []) } : {}),
      ...(done && a.cached ? this.hitFiles(a.cached.video) : {}),
    };
    const [code, n] = (await this.run(ACCEPT, keys.job(job.id), spec)) as [number, number];
    if (code === 0) return { ok: false, reason: 'quota', usedS: n / 1e6 };
    if (code === 3) return { ok: false, reason: 'stale' };
    return { ok: true, position: done || n < 0 ? null : n, expiresAt: done ? expiry.at : null };
  }

  /** queued|running → running under a new attempt. Null when the job is gone or already finished (or canceled). */
  async start(id: string, attempt: number, token = newAttemptToken(attempt)): Promise<Attempt | null> {
    const [code, raw] = (await this.run(START, keys.job(id), { ...this.common(id), token, attempt, redelivered: REDELIVERED })) as Raw;
    if (code !== 1 && code !== 2) return null;
    return { stored: parseStored(fieldsOf(raw as string[])), token };
  }

  /** Progress of the attempt (0..1), which doubles as its stop check: false once canceled or superseded. */
  async progress(id: string, token: string, progress: number): Promise<boolean> {
    const p = Math.max(0, Math.min(1, progress));
    return (await this.run(PROGRESS, keys.job(id), { ...this.common(id), token, progress: p })) === 1;
  }

  /**
   * running → succeeded under `token`, with every effect: the asset records, usage on the
   * ledger (the reservation settled to it), the output-cache entry, the counters, the
   * webhook. Answers the verdict and, when done now, the tokens of attempts that lost.
   */
  async succeed(
    at: Attempt,
    out: {
      assets: { video: AssetRecord; poster: AssetRecord }; usage: Usage; model: Job['model']; cacheHit: boolean; cacheKey?: string;
      /** For a hit: when the cached files go at the latest (S3 lifecycle rules count from the object's creation). */
      capMs?: number;
    },
  ): Promise<{ verdict: Verdict; losers: string[] }> {
    const { job, team } = at.stored;
    const now = new Date().toISOString();
    const expiry = this.expiry(job.quality, out.capMs);
    // The model that really made it: the ledger and the counters split by its version.
    const finished: Job = { ...job, status: 'succeeded', usage: out.usage, model: out.model, cache_hit: out.cacheHit, finished_at: now, expires_at: expiry.at };
    const cache: CachedOutput | undefined = out.cacheKey
      ? { video: cachedAsset(out.assets.video), poster: cachedAsset(out.assets.poster), job_id: job.id, expires_ms: expiry.expires_ms }
      : undefined;
    const spec = {
      ...this.common(job.id), now, token: at.token, status: 'succeeded', expiry,
      ...(out.cacheHit ? this.hitFiles(out.assets.video) : { files: fileSetOf(out.assets.video.storage_key) }),
      fields: {
        progress: '1', assets: enc({ video: out.assets.video.id, poster: out.assets.poster.id }), usage: enc(out.usage),
        model: enc(out.model), cache_hit: enc(out.cacheHit),
      },
      ...this.successEffects(finished, team, [out.assets.video, out.assets.poster]),
      ...(cache ? { cache: [keys.outputCache(out.cacheKey!), enc(cache)] } : {}),
    };
    const res = (await this.run(FINISH, keys.job(job.id), spec)) as Raw;
    const verdict = VERDICT[res[0] as number]!;
    const losers = verdict === 'done' ? String(res[1] ?? '').split(' ').filter((t) => t && t !== at.token) : [];
    return { verdict, losers };
  }

  /**
   * → failed. With a token, only that running attempt's failure counts; with none (the
   * reconciler, a job BullMQ failed without running it) a queued or running job fails.
   * Answers the job after the change when done now, else null.
   */
  async fail(id: string, error: JobError, token = ''): Promise<{ verdict: Verdict; stored: StoredJob | null }> {
    const before = await this.get(id);
    const spec = {
      ...this.common(id), token, status: 'failed', expiry: this.expiry(before?.job.quality ?? 'draft'),
      fields: { error: enc(error), usage: 'null' },
      metrics: before ? terminalMetrics({ ...before.job, status: 'failed', usage: null }) : [],
    };
    const res = (await this.run(FINISH, keys.job(id), spec)) as Raw;
    const verdict = VERDICT[res[0] as number]!;
    return { verdict, stored: verdict === 'done' ? await this.get(id) : null };
  }

  /** queued|running → canceled (the reservation released, the event queued). Answers the verdict and the record. */
  async cancel(id: string): Promise<{ verdict: Verdict; stored: StoredJob | null }> {
    const before = await this.get(id);
    const spec = {
      ...this.common(id), expiry: this.expiry(before?.job.quality ?? 'draft'),
      metrics: before ? terminalMetrics({ ...before.job, status: 'canceled', usage: null }) : [],
    };
    const [code, raw] = (await this.run(CANCEL, keys.job(id), spec)) as Raw;
    const verdict = VERDICT[code as number]!;
    return { verdict, stored: verdict === 'missing' ? null : parseStored(fieldsOf(raw as string[])) };
  }

  /**
   * queued → canceled because it had not started by its deadline: error `deadline_exceeded`,
   * the reservation released, nothing billed, its webhook and team event. Answers the record
   * when canceled now; null when the job started, ended or is gone (the sweeper then forgets it).
   * Safe to race: of several servers' sweepers, one script wins.
   */
  async expire(id: string): Promise<StoredJob | null> {
    const before = await this.get(id);
    const message = 'The job had not started by its deadline (deadline_s); it was canceled at no charge.';
    const spec = {
      ...this.common(id), expire: true, expiry: this.expiry(before?.job.quality ?? 'draft'),
      fields: { error: enc({ code: 'deadline_exceeded', message, retryable: false } satisfies JobError) },
      metrics: before ? terminalMetrics({ ...before.job, status: 'canceled', usage: null }) : [],
    };
    const [code, raw] = (await this.run(CANCEL, keys.job(id), spec)) as Raw;
    return code === 1 ? parseStored(fieldsOf(raw as string[])) : null;
  }

  /** Queued jobs whose deadline has passed, oldest first (at most `limit`). */
  async overdue(limit: number, now = Date.now()): Promise<string[]> {
    return this.redis.zrangebyscore(keys.deadlines(), '-inf', now, 'LIMIT', 0, limit);
  }

  /** The attempt gives its running job back to the queue (a drain past its deadline). */
  async requeue(id: string, token: string): Promise<boolean> {
    return (await this.run(REQUEUE, keys.job(id), { ...this.common(id), token })) === 1;
  }

  /** The job's status now, or null when there is no such job. */
  async status(id: string): Promise<JobStatus | null> {
    const raw = await this.redis.hget(keys.job(id), 'status');
    return raw === null ? null : (JSON.parse(raw) as JobStatus);
  }

  private async get(id: string): Promise<StoredJob | null> {
    const raw = await this.redis.hgetall(keys.job(id));
    return raw.status ? parseStored(raw) : null;
  }

  /** The spec fields of a success's effects: ledger figures, asset records, counters. */
  private successEffects(job: Job, team: string, assets: AssetRecord[]) {
    const usage = job.usage;
    return {
      ledger_field: ledgerField(job.quality, job.metadata['campaign'] ?? null, job.model.version),
      gpu_us: toMicros(usage?.gpu_seconds ?? 0),
      credits_u: toMicros(usage?.credits ?? 0),
      assets: assets.map((a) => [keys.asset(a.id), enc({ ...a, team, job_id: job.id, files_expire_at: job.expires_at })]),
      metrics: terminalMetrics(job),
    };
  }
}

/** The counter field START adds to when a job is started again while an attempt held it, per lane. */
const REDELIVERED: Record<Lane, string> = {
  draft: counterFields('clickvid_redeliveries_total', { lane: 'draft' })[0]![0],
  final: counterFields('clickvid_redeliveries_total', { lane: 'final' })[0]![0],
};

/** The cluster counters a terminal state adds: jobs, duration, metered seconds, cache hits. */
function terminalMetrics(job: Job): MetricField[] {
  const q = jobLabels(job);
  const out = counterFields('clickvid_jobs_total', { ...q, status: job.status }, 1);
  const end = job.finished_at ? Date.parse(job.finished_at) : Date.now();
  out.push(...histogramFields('clickvid_job_duration_seconds', q, (end - Date.parse(job.created_at)) / 1000));
  if (job.usage?.gpu_seconds) out.push(...counterFields('clickvid_gpu_seconds_total', q, job.usage.gpu_seconds));
  if (job.cache_hit) out.push(...counterFields('clickvid_cache_hits_total', q, 1));
  return out;
}

/**
 * `a<attempt>-<pid>-<random>`: readable in a storage listing (which attempt, which process
 * held it: `pid` in base 36), unguessable, unique per start.
 */
export const newAttemptToken = (attempt: number) => `a${attempt}-${process.pid.toString(36)}-${randomBytes(5).toString('hex')}`;
