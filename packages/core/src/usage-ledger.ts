import type { Quality, UsageRow } from '@clickvid/contracts';
import type { Redis } from 'ioredis';
import { keys } from './keys.js';

export const utcDay = (d = new Date()) => d.toISOString().slice(0, 10);
const SEP = '\u001f';
/** Ledger hashes live a little over a year. */
export const LEDGER_TTL_S = 400 * 86_400;

/** Seconds (or credits) to the integer micro-units the ledger adds: sums stay exact. */
export const toMicros = (x: number) => Math.round(x * 1e6);

/**
 * The field prefix of a (quality, model version, campaign) group; `jobs`, `gpu_us` and
 * `credits_u` follow it. The version rides on the quality (`draft@2.1.0`), so fields written
 * before versions were split (`draft␟…`) still read, with no version.
 */
export const ledgerField = (quality: Quality, campaign: string | null, modelVersion: string | null = null) =>
  `${quality}${modelVersion === null ? '' : `@${modelVersion}`}${SEP}${campaign ?? ''}${SEP}`;

/**
 * GPU-seconds, credits and job counts per team, UTC day, quality, model version and campaign tag.
 * One hash per (team, day); fields are `quality[@version]␟campaign␟metric` (␟ is U+001F), integers in
 * micro-units, read back by the first and last separator (see parseField), so any campaign
 * string round-trips; plus `total_gpu_us` and `reserved_us` (the quota reservations of jobs
 * not yet ended). A job is billed on the UTC day it was accepted (the day its reservation was
 * made), by the lifecycle script that ends it (see lifecycle.ts): never here, never twice.
 */
export class UsageLedger {
  constructor(private readonly redis: Redis) {}

  /** Adds usage outside a job (imports, corrections, tests). */
  async record(team: string, quality: Quality, campaign: string | null, gpuSeconds: number, credits: number, at = new Date(), modelVersion: string | null = null): Promise<void> {
    const key = keys.usage(team, utcDay(at));
    const f = ledgerField(quality, campaign, modelVersion);
    await this.redis
      .multi()
      .hincrby(key, `${f}jobs`, 1)
      .hincrby(key, `${f}gpu_us`, toMicros(gpuSeconds))
      .hincrby(key, `${f}credits_u`, toMicros(credits))
      .hincrby(key, 'total_gpu_us', toMicros(gpuSeconds))
      .expire(key, LEDGER_TTL_S)
      .exec();
  }

  /** GPU-seconds billed today (UTC). */
  async usedToday(team: string): Promise<number> {
    return Number((await this.redis.hget(keys.usage(team, utcDay()), 'total_gpu_us')) ?? 0) / 1e6;
  }

  /** GPU-seconds reserved today by jobs that have not ended yet. */
  async reservedToday(team: string): Promise<number> {
    return Number((await this.redis.hget(keys.usage(team, utcDay()), 'reserved_us')) ?? 0) / 1e6;
  }

  async report(team: string, from: string, to: string): Promise<UsageRow[]> {
    const days: string[] = [];
    for (let d = new Date(`${from}T00:00:00Z`); utcDay(d) <= to && days.length < 400; d = new Date(d.getTime() + 86_400_000)) {
      days.push(utcDay(d));
    }
    const pipe = this.redis.pipeline();
    for (const day of days) pipe.hgetall(keys.usage(team, day));
    const res = (await pipe.exec()) ?? [];
    const rows: UsageRow[] = [];
    res.forEach(([, h], i) => {
      const byGroup = new Map<string, UsageRow>();
      for (const [field, value] of Object.entries((h ?? {}) as Record<string, string>)) {
        const parsed = parseField(field);
        if (!parsed) continue;
        const { quality, modelVersion, campaign, metric } = parsed;
        const g = `${quality}@${modelVersion ?? ''}${SEP}${campaign}`;
        const row = byGroup.get(g) ?? { day: days[i]!, quality, model_version: modelVersion, campaign: campaign || null, jobs: 0, gpu_seconds: 0, credits: 0 };
        if (metric === 'jobs') row.jobs = Number(value);
        if (metric === 'gpu_us') row.gpu_seconds = Number(value) / 1e6;
        if (metric === 'credits_u') row.credits = Number(value) / 1e6;
        byGroup.set(g, row);
      }
      rows.push(...byGroup.values());
    });
    return rows;
  }
}

/**
 * Splits `quality[@version]␟campaign␟metric` at its first and last separators. Quality,
 * version and metric never contain one, so a campaign may hold anything, the separator
 * included: splitting at every separator dropped such rows from reports while the quota
 * still counted them.
 */
function parseField(field: string): { quality: Quality; modelVersion: string | null; campaign: string; metric: string } | null {
  const first = field.indexOf(SEP);
  const last = field.lastIndexOf(SEP);
  if (first === -1 || first === last) return null;
  const head = field.slice(0, first);
  const at = head.indexOf('@');
  return {
    quality: (at === -1 ? head : head.slice(0, at)) as Quality,
    modelVersion: at === -1 ? null : head.slice(at + 1),
    campaign: field.slice(first + 1, last),
    metric: field.slice(last + 1),
  };
}

export const round = (x: number, digits = 6) => Number(x.toFixed(digits));
