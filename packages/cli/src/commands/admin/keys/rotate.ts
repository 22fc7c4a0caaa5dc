import { Args, Flags } from '@oclif/core';
import type { ApiKeyRotation } from '@clickvid/sdk';
import { AdminCommand } from '../../../admin-base.js';
import { keyTable } from '../../../internal/admin.js';
import { paint } from '../../../internal/style.js';
import { JSON_EXAMPLES } from '../../../internal/json-examples.js';

export default class AdminKeysRotate extends AdminCommand<typeof AdminKeysRotate> {
  static override description = 'Issue a new key for the same team and revoke this one, now or after an overlap.';
  static jsonExample = JSON_EXAMPLES.apiKeyRotation;
  static override args = { id: Args.string({ description: 'Key id (key_…).', required: true }) };
  static override flags = {
    name: Flags.string({ description: "Name of the new key (default: the old key's)." }),
    overlap: Flags.integer({ description: 'Seconds the old key keeps working.', default: 0, min: 0 }),
  };

  async run(): Promise<ApiKeyRotation> {
    const r = await (await this.client()).admin.keys.rotate(this.args.id, { overlap_s: this.flags.overlap, ...(this.flags.name ? { name: this.flags.name } : {}) });
    this.log(keyTable([r.key, r.replaced]));
    this.log(`  new key  ${r.key.key}`);
    this.log(paint.dim('  (shown once: store it now)'));
    return r;
  }
}
