import type { BucketLifecycleConfiguration, LifecycleRule } from '@aws-sdk/client-s3';
import { Quality } from '@clickvid/contracts';
import type { Retention } from '../retention.js';
import { tierPrefix } from '../retention.js';

/**
 * The bucket's lifecycle rules, from the config: one rule per tier, expiring the objects under
 * `<S3 prefix><tier>/` after the tier's lifetime, and aborting uploads left incomplete for a day.
 * S3 counts whole days from an object's creation (rounded up to the next midnight UTC), so a
 * lifetime is rounded up to whole days, at least one: an object never goes before its job's
 * `expires_at` (the sweeper, on the exact expiry, drops what points at it).
 * `scripts/s3-lifecycle.mjs --print|--apply` writes it to the bucket.
 */
export function s3LifecycleConfiguration(retention: Retention, s3Prefix: string): BucketLifecycleConfiguration {
  const rules: LifecycleRule[] = Quality.options.map((q) => ({
    ID: `clickvid-${q}-files`,
    Status: 'Enabled',
    Filter: { Prefix: `${s3Prefix}${tierPrefix(q)}` },
    Expiration: { Days: Math.max(1, Math.ceil(retention.filesS[q] / 86_400)) },
    AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
  }));
  return { Rules: rules };
}
