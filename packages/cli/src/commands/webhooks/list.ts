import { Flags } from '@oclif/core';
import type { WebhookDelivery } from '@clickvid/sdk';
import { BaseCommand } from '../../base.js';
import { colorStatus, table } from '../../internal/format.js';
import { JSON_EXAMPLES } from '../../internal/json-examples.js';

export default class WebhooksList extends BaseCommand<typeof WebhooksList> {
  static override description = 'List your webhook deliveries, newest first: attempts, last answer, next retry (kept 7 days).';
  static jsonExample = JSON_EXAMPLES.deliveryList;
  static override flags = {
    all: Flags.boolean({ description: 'Follow next_cursor through every page.' }),
    job: Flags.string({ description: "Only this job's deliveries." }),
    limit: Flags.integer({ description: 'Page size.', min: 1, max: 100, default: 20 }),
    status: Flags.string({ description: 'Only this status.', options: ['pending', 'succeeded', 'failed'] }),
  };

  async run(): Promise<{ object: 'list'; data: WebhookDelivery[]; next_cursor: string | null }> {
    const { flags } = this;
    const client = await this.client();
    const query = { job_id: flags.job, status: flags.status as WebhookDelivery['status'] | undefined, limit: flags.limit };
    let data: WebhookDelivery[];
    let nextCursor: string | null;
    if (flags.all) {
      data = [];
      for await (const d of client.webhooks.deliveries.list(query)) data.push(d);
      nextCursor = null;
    } else {
      const page = await client.webhooks.deliveries.list(query);
      data = page.data;
      nextCursor = page.next_cursor;
    }
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
