import { Args, Flags } from '@oclif/core';
import type { DownloadResult } from '@clickvid/sdk';
import { BaseCommand } from '../../base.js';
import { formatBytes } from '../../internal/format.js';
import { JSON_EXAMPLES } from '../../internal/json-examples.js';

export default class AssetsDownload extends BaseCommand<typeof AssetsDownload> {
  static override description = 'Download an asset (checked against its size and sha256).';
  static jsonExample = JSON_EXAMPLES.download;
  static override args = { id: Args.string({ description: 'Asset id.', required: true }) };
  static override flags = {
    out: Flags.string({ char: 'o', description: 'File or directory to write to.', default: '.' }),
  };

  async run(): Promise<{ path: string; bytes: number; asset_id: string }> {
    const spinner = await this.spinner(`downloading ${this.args.id}`);
    let saved: DownloadResult;
    try {
      saved = await (await this.client()).assets.download(this.args.id, this.flags.out);
    } catch (err) {
      spinner?.fail();
      throw err;
    }
    if (spinner) spinner.succeed(`saved ${saved.path} (${formatBytes(saved.bytes)})`);
    else this.log(`saved ${saved.path} (${formatBytes(saved.bytes)})`);
    return { path: saved.path, bytes: saved.bytes, asset_id: saved.asset.id };
  }
}
