import { Args } from '@oclif/core';
import type { ApiKeyList } from '@clickvid/sdk';
import { AdminCommand } from '../../../admin-base.js';
import { keyTable } from '../../../internal/admin.js';
import { JSON_EXAMPLES } from '../../../internal/json-examples.js';

export default class AdminKeysList extends AdminCommand<typeof AdminKeysList> {
  static override description = "List a team's API keys (never their secrets), revoked ones included.";
  static jsonExample = JSON_EXAMPLES.apiKeyList;
  static override args = { team: Args.string({ description: 'Team id.', required: true }) };

  async run(): Promise<ApiKeyList> {
    const list = await (await this.client()).admin.keys.list(this.args.team);
    this.log(keyTable(list.data));
    return list;
  }
}
