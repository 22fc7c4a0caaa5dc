import { Args } from '@oclif/core';
import type { ApiKey } from '@clickvid/sdk';
import { AdminCommand } from '../../../admin-base.js';
import { keyTable } from '../../../internal/admin.js';
import { JSON_EXAMPLES } from '../../../internal/json-examples.js';

export default class AdminKeysRevoke extends AdminCommand<typeof AdminKeysRevoke> {
  static override description = 'Revoke an API key for good; every server refuses it within seconds.';
  static jsonExample = JSON_EXAMPLES.apiKeyRevoked;
  static override args = { id: Args.string({ description: 'Key id (key_…).', required: true }) };

  async run(): Promise<ApiKey> {
    const key = await (await this.client()).admin.keys.revoke(this.args.id);
    this.log(keyTable([key]));
    return key;
  }
}
