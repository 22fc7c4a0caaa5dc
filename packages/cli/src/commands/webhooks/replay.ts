import { Args } from '@oclif/core';
import type { WebhookDelivery } from '@clickvid/sdk';
import { BaseCommand } from '../../base.js';
import { JSON_EXAMPLES } from '../../internal/json-examples.js';

export default class WebhooksReplay extends BaseCommand<typeof WebhooksReplay> {
  static override description = 'Send a delivery\'s event again: the same webhook-id and body, as a new delivery.';
  static jsonExample = JSON_EXAMPLES.delivery;
  static override args = { id: Args.string({ description: 'Delivery id (dlv_…), from `clickvid webhooks list`.', required: true }) };

  async run(): Promise<WebhookDelivery> {
    const d = await (await this.client()).webhooks.deliveries.replay(this.args.id);
    this.log(`${d.id}  queued: replays ${d.replay_of} (${d.type} of ${d.job_id}, webhook-id ${d.event_id}) to ${d.url}`);
    return d;
  }
}
