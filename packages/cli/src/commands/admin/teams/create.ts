import { Args, Flags } from '@oclif/core';
import type { Team } from '@clickvid/sdk';
import { AdminCommand } from '../../../admin-base.js';
import { settingsFlags, settingsPatch, teamLines } from '../../../internal/admin.js';
import { JSON_EXAMPLES } from '../../../internal/json-examples.js';

export default class AdminTeamsCreate extends AdminCommand<typeof AdminTeamsCreate> {
  static override description = 'Create a team; settings not given take the deployment defaults.';
  static jsonExample = JSON_EXAMPLES.team;
  static override examples = ['<%= config.bin %> admin teams create trial --qualities draft,standard --daily-gpu-seconds 5'];
  static override args = { id: Args.string({ description: 'Team id (a-z, 0-9, _ and -).', required: true }) };
  static override flags = { ...settingsFlags, name: Flags.string({ description: 'Display name (default: the id).' }) };

  async run(): Promise<Team> {
    const settings = settingsPatch(this.flags);
    const team = await (await this.client()).admin.teams.create({ id: this.args.id, ...(this.flags.name ? { name: this.flags.name } : {}), ...(settings ? { settings } : {}) });
    for (const line of teamLines(team)) this.log(line);
    return team;
  }
}
