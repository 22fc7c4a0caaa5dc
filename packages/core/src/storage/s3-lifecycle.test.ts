import { execFileSync } from 'node:child_process';
import { PutBucketLifecycleConfigurationCommand, S3Client, type BucketLifecycleConfiguration } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { loadConfig, REPO_ROOT } from '../config.js';
import { s3LifecycleConfiguration } from './s3-lifecycle.js';

// s3rver has no lifecycle API, so the document is checked: its rules, and that the AWS SDK
// serialises it into the PutBucketLifecycleConfiguration request S3 would receive.
describe('S3 lifecycle rules', () => {
  const env = { CLICKVID_RETENTION_DRAFT: '36h', CLICKVID_RETENTION_STANDARD: '30d', CLICKVID_RETENTION_FINAL: '90', CLICKVID_S3_PREFIX: 'clips/' };

  it('one rule per tier prefix, with the days from the config (rounded up, at least one)', () => {
    const c = loadConfig(env);
    const doc: BucketLifecycleConfiguration = s3LifecycleConfiguration(c.retention, c.storage.s3.prefix);
    expect(doc.Rules!.map((r) => [r.ID, r.Status, r.Filter?.Prefix, r.Expiration?.Days])).toEqual([
      ['clickvid-draft-files', 'Enabled', 'clips/draft/', 2],
      ['clickvid-standard-files', 'Enabled', 'clips/standard/', 30],
      ['clickvid-final-files', 'Enabled', 'clips/final/', 90],
    ]);
    expect(s3LifecycleConfiguration(loadConfig({ CLICKVID_RETENTION_DRAFT: '2s' }).retention, '').Rules![0]!.Expiration!.Days).toBe(1);
  });

  it('is a request the AWS SDK serialises as S3 expects', async () => {
    const c = loadConfig(env);
    const client = new S3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:1', forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    let body = '';
    // Stop at the wire: capture the signed request instead of sending it.
    client.middlewareStack.add(
      () => async (args) => {
        body = String((args.request as { body: unknown }).body);
        return { output: { $metadata: {} }, response: {} } as never;
      },
      { step: 'finalizeRequest', priority: 'low', name: 'capture' },
    );
    await client.send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'renders', LifecycleConfiguration: s3LifecycleConfiguration(c.retention, 'clips/') }));
    client.destroy();
    expect(body).toContain('<LifecycleConfiguration');
    expect(body.match(/<Rule>/g)).toHaveLength(3);
    expect(body).toContain('<Filter><Prefix>clips/final/</Prefix></Filter>');
    expect(body).toContain('<Expiration><Days>90</Days></Expiration>');
  });

  it('scripts/s3-lifecycle.mjs --print writes the same document', () => {
    const out = execFileSync(process.execPath, ['scripts/s3-lifecycle.mjs', '--print'], { cwd: REPO_ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(s3LifecycleConfiguration(loadConfig(env).retention, 'clips/'));
  });
});
