import { Args, Flags } from '@oclif/core';
import type { Team } from '@clickvid/sdk';
import { AdminCommand } from '../../../admin-base.js';
import { settingsFlags, settingsPatch, teamLines } from '../../../internal/admin.js';
import { JSON_EXAMPLES } from '../../../internal/json-examples.js';

export default class AdminTeamsUpdate extends AdminCommand<typeof AdminTeamsUpdate> {
  static override description = "Rename a team or change its settings (only the flags given); every server applies it within seconds.";
  static jsonExample = JSON_EXAMPLES.team;
  static override examples = ['<%= config.bin %> admin teams update trial --qualities draft,standard,final --daily-gpu-seconds none'];
  static override args = { id: Args.string({ description: 'Team id.', required: true }) };
  static override flags = { ...settingsFlags, name: Flags.string({ description: 'New display name.' }) };

  async run(): Promise<Team> {
    const settings = settingsPatch(this.flags);
    const team = await (await this.client()).admin.teams.update(this.args.id, { ...(this.flags.name ? { name: this.flags.name } : {}), ...(settings ? { settings } : {}) });
    for (const line of teamLines(team)) this.log(line);
    return team;
  }
}
