import { Args } from '@oclif/core';
import type { Team } from '@clickvid/sdk';
import { AdminCommand } from '../../../admin-base.js';
import { teamLines } from '../../../internal/admin.js';
import { JSON_EXAMPLES } from '../../../internal/json-examples.js';

export default class AdminTeamsGet extends AdminCommand<typeof AdminTeamsGet> {
  static override description = 'Show a team and its effective settings.';
  static jsonExample = JSON_EXAMPLES.team;
  static override args = { id: Args.string({ description: 'Team id.', required: true }) };

  async run(): Promise<Team> {
    const team = await (await this.client()).admin.teams.retrieve(this.args.id);
    for (const line of teamLines(team)) this.log(line);
    return team;
  }
}
