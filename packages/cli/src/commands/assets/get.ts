import { Args } from '@oclif/core';
import type { Asset } from '@clickvid/sdk';
import { BaseCommand } from '../../base.js';
import { formatBytes } from '../../internal/format.js';
import { JSON_EXAMPLES } from '../../internal/json-examples.js';

export default class AssetsGet extends BaseCommand<typeof AssetsGet> {
  static override description = 'Show an asset and a fresh signed URL (short-lived).';
  static jsonExample = JSON_EXAMPLES.asset;
  static override args = { id: Args.string({ description: 'Asset id.', required: true }) };

  async run(): Promise<Asset> {
    const a = await (await this.client()).assets.retrieve(this.args.id);
    this.log(`${a.id}  ${a.kind} ${a.content_type} ${a.width}x${a.height} ${formatBytes(a.bytes)} (job ${a.job_id})`);
    this.log(`  sha256   ${a.sha256}`);
    this.log(`  url      ${a.url}`);
    this.log(`  expires  ${a.expires_at}`);
    return a;
  }
}
