import { Flags } from '@oclif/core';
import type { Job } from '@clickvid/sdk';
import { BaseCommand } from '../../base.js';
import { colorStatus, round, table } from '../../internal/format.js';
import { pageFlags, readList } from '../../internal/flags.js';
import { JSON_EXAMPLES } from '../../internal/json-examples.js';

export default class JobsList extends BaseCommand<typeof JobsList> {
  static override description = 'List your jobs, newest first.';
  static jsonExample = JSON_EXAMPLES.jobList;
  static override flags = {
    ...pageFlags,
    campaign: Flags.string({ description: 'Only jobs with this metadata.campaign.' }),
    quality: Flags.string({ description: 'Only this quality.', options: ['draft', 'standard', 'final'] }),
    status: Flags.string({ description: 'Only this status.', options: ['queued', 'running', 'succeeded', 'failed', 'canceled'] }),
  };

  async run(): Promise<{ object: 'list'; data: Job[]; next_cursor: string | null }> {
    const { flags } = this;
    const client = await this.client();
    const query = {
      status: flags.status as Job['status'] | undefined,
      quality: flags.quality as Job['quality'] | undefined,
      campaign: flags.campaign,
      limit: flags.limit,
    };
    const { data, next_cursor: nextCursor } = await readList(client.jobs.list(query), flags.all);
    this.log(
      table(
        ['ID', 'STATUS', 'QUALITY', 'PROGRESS', 'GPU-S', 'CREATED', 'PROMPT'],
        data.map((j) => [
          j.id, colorStatus(j.status), j.quality, `${Math.round(j.progress * 100)}%`,
          String(round(j.usage?.gpu_seconds ?? j.estimate.gpu_seconds)), j.created_at.slice(0, 19).replace('T', ' '),
          j.prompt.length > 48 ? `${j.prompt.slice(0, 47)}…` : j.prompt,
        ]),
      ),
    );
    if (nextCursor) this.log(`more: --all, or the API with cursor=${nextCursor}`);
    return { object: 'list', data, next_cursor: nextCursor };
  }
}
