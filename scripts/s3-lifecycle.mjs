// The S3 bucket's lifecycle rules, written from the config (CLICKVID_RETENTION_*, CLICKVID_S3_*):
// one rule per tier prefix (`<CLICKVID_S3_PREFIX><tier>/`), expiring objects after the tier's
// lifetime in whole days. Local storage needs none: the sweeper deletes expired files.
//
//   node scripts/s3-lifecycle.mjs --print   the LifecycleConfiguration as JSON (no credentials needed)
//   node scripts/s3-lifecycle.mjs --apply   PutBucketLifecycleConfiguration on CLICKVID_S3_BUCKET
//
// Run it again whenever a lifetime changes. It replaces the bucket's whole lifecycle configuration.
import { PutBucketLifecycleConfigurationCommand, S3Client } from '@aws-sdk/client-s3';
import { loadConfigOrExit, s3LifecycleConfiguration } from '@clickvid/core';

const mode = process.argv[2];
if (mode !== '--print' && mode !== '--apply') {
  process.stderr.write('usage: node scripts/s3-lifecycle.mjs --print|--apply\n');
  process.exit(64);
}
const config = loadConfigOrExit('s3-lifecycle');
const { s3 } = config.storage;
const doc = s3LifecycleConfiguration(config.retention, s3.prefix);
if (mode === '--print') {
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
} else {
  if (!s3.bucket) {
    process.stderr.write('clickvid s3-lifecycle: CLICKVID_S3_BUCKET is required for --apply\n');
    process.exit(78);
  }
  const client = new S3Client({
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
    ...(s3.accessKeyId && s3.secretAccessKey ? { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } } : {}),
  });
  await client.send(new PutBucketLifecycleConfigurationCommand({ Bucket: s3.bucket, LifecycleConfiguration: doc }));
  process.stdout.write(`lifecycle rules written to s3://${s3.bucket}: ${doc.Rules.map((r) => `${r.Filter.Prefix} ${r.Expiration.Days}d`).join(', ')}\n`);
  client.destroy();
}
