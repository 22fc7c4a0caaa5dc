import { createHash } from 'node:crypto';
import type { EffectiveParams, ModelRef } from '@clickvid/contracts';
import type { Redis } from 'ioredis';
import type { AssetRecord } from './assets.js';
import { keys } from './keys.js';

/**
 * The output cache key: everything that determines the pixels. Same model file,
 * variant, normalized prompt, seed and frame parameters → same video.
 */
export function contentKey(model: ModelRef, normalizedPrompt: string, p: EffectiveParams): string {
  return createHash('sha256')
    .update(JSON.stringify([model.sha256, model.variant, normalizedPrompt, p.seed, p.frames, p.fps, p.width, p.height]))
    .digest('hex');
}

/** What a cache entry remembers: the files, not the (team-owned) asset ids. */
export type CachedAsset = Omit<AssetRecord, 'id' | 'team' | 'job_id' | 'created_at'>;
export interface CachedOutput {
  video: CachedAsset;
  poster: CachedAsset;
  /** The job that rendered it. */
  job_id: string;
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

  async put(key: string, out: CachedOutput): Promise<void> {
    await this.redis.set(keys.outputCache(key), JSON.stringify(out), 'EX', this.ttlS);
  }
}
