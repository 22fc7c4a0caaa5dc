import { Args, Flags } from '@oclif/core';
import chalk from 'chalk';
import type { ApiKeyWithSecret } from '@clickvid/sdk';
import { AdminCommand } from '../../../admin-base.js';

export default class AdminKeysCreate extends AdminCommand<typeof AdminKeysCreate> {
  static override description = 'Issue an API key for a team. The key is printed once; only its hash is stored.';
  static override args = { team: Args.string({ description: 'Team id.', required: true }) };
  static override flags = { name: Flags.string({ description: 'What the key is for (e.g. ci, laptop).', default: 'default' }) };

  async run(): Promise<ApiKeyWithSecret> {
    const key = await (await this.client()).admin.keys.create(this.args.team, { name: this.flags.name });
    this.log(`${chalk.bold(key.id)}  ${key.name}  team ${key.team}`);
    this.log(`  key  ${key.key}`);
    this.log(chalk.dim('  (shown once: store it now)'));
    return key;
  }
}
