import type { TeamList } from '@clickvid/sdk';
import { AdminCommand } from '../../../admin-base.js';
import { table } from '../../../internal/format.js';
import { JSON_EXAMPLES } from '../../../internal/json-examples.js';

const orNone = (v: number | null) => (v === null ? '-' : String(v));

export default class AdminTeamsList extends AdminCommand<typeof AdminTeamsList> {
  static override description = 'List teams, oldest first.';
  static jsonExample = JSON_EXAMPLES.teamList;

  async run(): Promise<TeamList> {
    const list = await (await this.client()).admin.teams.list();
    this.log(
      table(
        ['ID', 'NAME', 'QUALITIES', 'GPU-S/DAY', 'CREDITS/MONTH', 'CREATES/MIN', 'READS/MIN'],
        list.data.map((t) => [
          t.id, t.name, t.settings.allowed_qualities.join(','), orNone(t.settings.daily_gpu_seconds), orNone(t.settings.monthly_credits),
          String(t.settings.rate_limits.creates_per_min), String(t.settings.rate_limits.reads_per_min),
        ]),
      ),
    );
    return list;
  }
}
