import { Flags } from '@oclif/core';
import type { WebhookDelivery } from '@clickvid/sdk';
import { BaseCommand } from '../../base.js';
import { colorStatus, table } from '../../internal/format.js';
import { pageFlags, readList } from '../../internal/flags.js';
import { JSON_EXAMPLES } from '../../internal/json-examples.js';

export default class WebhooksList extends BaseCommand<typeof WebhooksList> {
  static override description = 'List your webhook deliveries, newest first: attempts, last answer, next retry (kept 7 days).';
  static jsonExample = JSON_EXAMPLES.deliveryList;
  static override flags = {
    ...pageFlags,
    job: Flags.string({ description: "Only this job's deliveries." }),
    status: Flags.string({ description: 'Only this status.', options: ['pending', 'succeeded', 'failed'] }),
  };

  async run(): Promise<{ object: 'list'; data: WebhookDelivery[]; next_cursor: string | null }> {
    const { flags } = this;
    const client = await this.client();
    const query = { job_id: flags.job, status: flags.status as WebhookDelivery['status'] | undefined, limit: flags.limit };
    const { data, next_cursor: nextCursor } = await readList(client.webhooks.deliveries.list(query), flags.all);
    this.log(
      table(
        ['ID', 'EVENT', 'JOB', 'STATUS', 'ATTEMPTS', 'LAST CODE', 'NEXT RETRY'],
        data.map((d) => [
          d.replay_of ? `${d.id} (replay)` : d.id, d.type, d.job_id, colorStatus(d.status), String(d.attempts),
          d.last_status_code === null ? (d.last_error ? 'error' : '-') : String(d.last_status_code),
          d.next_retry_at ? d.next_retry_at.slice(0, 19).replace('T', ' ') : '-',
        ]),
      ),
    );
    if (nextCursor) this.log(`more: --all, or the API with cursor=${nextCursor}`);
    return { object: 'list', data, next_cursor: nextCursor };
  }
}
