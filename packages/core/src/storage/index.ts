import type { Config } from '../config.js';
import { LocalStorage } from './local.js';
import { S3Storage } from './s3.js';
import type { Storage } from './types.js';

export function createStorage(config: Config): Storage {
  const s = config.storage;
  if (s.driver === 's3') return new S3Storage({ ...s.s3, bucket: s.s3.bucket! });
  return new LocalStorage(s.dir, config.publicUrl, config.signingSecret);
}
