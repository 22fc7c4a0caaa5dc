import type { Asset, AssetKind } from '@clickvid/contracts';
import type { Redis } from 'ioredis';
import { keys } from './keys.js';
import type { SignedUrlOptions, Storage } from './storage/types.js';

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
  /** When its files stop being kept: its job's `expires_at` (absent on records from before retention). After it, 410. */
  files_expire_at?: string | null;
}

/** Whether the asset's files have passed their lifetime: the API answers 410 `asset_expired`. */
export const assetExpired = (rec: Pick<AssetRecord, 'files_expire_at'>, now = Date.now()) =>
  !!rec.files_expire_at && Date.parse(rec.files_expire_at) <= now;

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

  /** Many records in one round trip, in the order asked; null where one is missing. */
  async getMany(ids: string[]): Promise<Array<AssetRecord | null>> {
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => keys.asset(id)));
    return raws.map((raw) => (raw ? (JSON.parse(raw) as AssetRecord) : null));
  }

  /** The public Asset with a fresh signed URL (one that makes a browser save the file, with `download`). */
  async toPublic(rec: AssetRecord, storage: Storage, ttlS: number, opts: SignedUrlOptions = {}): Promise<Asset> {
    const { url, expiresAt } = await storage.signedUrl(rec.storage_key, rec, ttlS, opts);
    const { team: _team, storage_key: _key, files_expire_at: _exp, ...pub } = rec;
    return { ...pub, object: 'asset', url, expires_at: expiresAt.toISOString() };
  }
}

/** The file name an asset is saved under: its job id and the kind's extension. */
export function assetFileName(rec: Pick<AssetRecord, 'job_id' | 'kind'>): string {
  return `${rec.job_id}${rec.kind === 'video' ? '.mp4' : '.png'}`;
}
