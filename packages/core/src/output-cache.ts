import { createHash } from 'node:crypto';
import type { EffectiveParams, ModelRef, Usage } from '@clickvid/contracts';
import type { Redis } from 'ioredis';
import type { AssetRecord } from './assets.js';
import { newId } from './ids.js';
import { keys } from './keys.js';
import type { Storage } from './storage/types.js';

/**
 * The output cache key: the team, and everything that determines the pixels (the whole model's
 * digest — manifest and files, see modelDigest — the variant, normalized prompt, seed, frame
 * parameters, and for a job promoted from a draft the sha256 of the latents it starts from), so
 * no cached output crosses model versions. Per team, because a hit is visible
 * (`cache_hit: true`, cost 0): a shared key let one team test whether another had
 * rendered a given prompt and seed, and get its render for free. A promoted final and a direct
 * final of the same prompt and seed start from other latents, so their keys differ.
 */
export function contentKey(team: string, modelDigest: string, model: ModelRef, normalizedPrompt: string, p: EffectiveParams, startSha256?: string): string {
  const parts: unknown[] = [team, modelDigest, model.sha256, model.variant, normalizedPrompt, p.seed, p.frames, p.fps, p.width, p.height];
  // Appended only when there is one: the keys of jobs that start from their seed stay as they were.
  if (startSha256 !== undefined) parts.push({ start: startSha256 });
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** What a cache entry remembers: the files, not the (team-owned) asset ids. */
export type CachedAsset = Omit<AssetRecord, 'id' | 'team' | 'job_id' | 'created_at' | 'files_expire_at'>;
export interface CachedOutput {
  video: CachedAsset;
  poster: CachedAsset;
  /** The job that rendered it. */
  job_id: string;
  /** When the rendered files expire (ms), as the render's success set it; entries from before retention have none. */
  expires_ms?: number;
}

/**
 * The latest a hit on `hit` may keep its files: unbounded on local storage (the hit raises the
 * files' expiry, and the sweeper honours it); on S3 the files' own expiry, because bucket
 * lifecycle rules delete objects by age whoever points at them.
 */
export function hitCapMs(hit: CachedOutput, storage: Pick<Storage, 'driver'>): number | undefined {
  return storage.driver === 's3' ? hit.expires_ms : undefined;
}

export class OutputCache {
  constructor(
    private readonly redis: Redis,
    private readonly ttlS: number,
  ) {}

  async get(key: string): Promise<CachedOutput | null> {
    const raw = await this.redis.get(keys.outputCache(key));
    return raw ? (JSON.parse(raw) as CachedOutput) : null;
  }

  /** A hit only while both of its files are still in storage. */
  async lookup(key: string, storage: Storage): Promise<CachedOutput | null> {
    const [hit] = await this.lookupMany([key], storage);
    return hit ?? null;
  }

  /** {@link lookup} for many keys with one MGET, in the order asked. */
  async lookupMany(contentKeys: string[], storage: Storage): Promise<Array<CachedOutput | null>> {
    const raws = await this.redis.mget(contentKeys.map(keys.outputCache));
    return Promise.all(
      raws.map(async (raw) => {
        if (!raw) return null;
        const hit = JSON.parse(raw) as CachedOutput;
        const [video, poster] = await Promise.all([storage.exists(hit.video.storage_key), storage.exists(hit.poster.storage_key)]);
        return video && poster ? hit : null;
      }),
    );
  }

  async put(key: string, out: CachedOutput): Promise<void> {
    await this.redis.set(keys.outputCache(key), JSON.stringify(out), 'EX', this.ttlS);
  }
}

/** What a job served from the cache is billed: nothing. */
export const CACHE_HIT_USAGE: Usage = { gpu_seconds: 0, credits: 0, batch_size: 0, breakdown: { inference_s: 0, encode_s: 0 } };

/**
 * Asset records of the caller's own for a cached output: the cached files may belong to
 * another team's job, so the ids (and the team checks on them) are new.
 */
export function assetsFromCache(hit: CachedOutput, team: string, jobId: string): { video: AssetRecord; poster: AssetRecord } {
  const created_at = new Date().toISOString();
  return {
    video: { ...hit.video, id: newId('ast'), team, job_id: jobId, created_at },
    poster: { ...hit.poster, id: newId('ast'), team, job_id: jobId, created_at },
  };
}

/** The part of an asset record a cache entry keeps: the file, not its owner. */
export function cachedAsset(a: AssetRecord): CachedAsset {
  const { id: _id, team: _team, job_id: _job, created_at: _at, files_expire_at: _exp, ...rest } = a;
  return rest;
}
