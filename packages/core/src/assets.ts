import type { Asset, AssetKind } from '@clickvid/contracts';
import type { Redis } from 'ioredis';
import { keys } from './keys.js';
import type { Storage } from './storage/types.js';

/** An asset as stored: public metadata without a URL, plus where the bytes are. */
export interface AssetRecord {
  id: string;
  team: string;
  job_id: string;
  kind: AssetKind;
  storage_key: string;
  content_type: string;
  bytes: number;
  width: number;
  height: number;
  frames: number | null;
  duration_s: number | null;
  sha256: string;
  created_at: string;
}

export class AssetStore {
  constructor(
    private readonly redis: Redis,
    private readonly ttlS: number,
  ) {}

  async put(rec: AssetRecord): Promise<void> {
    await this.redis.set(keys.asset(rec.id), JSON.stringify(rec), 'EX', this.ttlS);
  }

  async get(id: string): Promise<AssetRecord | null> {
    const raw = await this.redis.get(keys.asset(id));
    return raw ? (JSON.parse(raw) as AssetRecord) : null;
  }

  /** The public Asset with a fresh signed URL. */
  async toPublic(rec: AssetRecord, storage: Storage, ttlS: number): Promise<Asset> {
    const { url, expiresAt } = await storage.signedUrl(rec.storage_key, rec, ttlS);
    const { team: _team, storage_key: _key, ...pub } = rec;
    return { ...pub, object: 'asset', url, expires_at: expiresAt.toISOString() };
  }
}
