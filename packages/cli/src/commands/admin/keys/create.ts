import { Args, Flags } from '@oclif/core';
import type { ApiKeyWithSecret } from '@clickvid/sdk';
import { AdminCommand } from '../../../admin-base.js';
import { paint } from '../../../internal/style.js';
import { JSON_EXAMPLES } from '../../../internal/json-examples.js';

export default class AdminKeysCreate extends AdminCommand<typeof AdminKeysCreate> {
  static override description = 'Issue an API key for a team. The key is printed once; only its hash is stored.';
  static jsonExample = JSON_EXAMPLES.apiKeyWithSecret;
  static override args = { team: Args.string({ description: 'Team id.', required: true }) };
  static override flags = { name: Flags.string({ description: 'What the key is for (e.g. ci, laptop).', default: 'default' }) };

  async run(): Promise<ApiKeyWithSecret> {
    const key = await (await this.client()).admin.keys.create(this.args.team, { name: this.flags.name });
    this.log(`${paint.bold(key.id)}  ${key.name}  team ${key.team}`);
    this.log(`  key  ${key.key}`);
    this.log(paint.dim('  (shown once: store it now)'));
    return key;
  }
}
