import { Flags } from '@oclif/core';
import { BaseCommand } from '../base.js';
import { colorStatus } from '../internal/format.js';
import { JSON_EXAMPLES } from '../internal/json-examples.js';
import { defaultStatePath, forward, readLastEventId, writeLastEventId } from '../internal/listen.js';
import { paint } from '../internal/style.js';

export default class Listen extends BaseCommand<typeof Listen> {
  static override description =
    "Follow the team's event stream and POST each event to a local URL, signed like a webhook (Standard Webhooks, the team's secret). " +
    'Remembers the last event the URL acknowledged (2xx) and resumes after it when restarted or reconnected: no event is lost. ' +
    'At least once: an event acknowledged just before a kill, before its id was recorded, is sent again with the same webhook-id.';
  static override examples = ['<%= config.bin %> listen --forward-to http://localhost:3000/webhooks --secret whsec_…'];
  static jsonExample = JSON_EXAMPLES.listen;
  static jsonLines = true;
  static override flags = {
    'forward-to': Flags.string({ description: 'URL to POST each event to.', required: true }),
    secret: Flags.string({ description: "The team's webhook secret to sign with [env: CLICKVID_WEBHOOK_SECRET]", env: 'CLICKVID_WEBHOOK_SECRET' }),
    state: Flags.string({ description: 'File keeping the last acknowledged event id (default: one per API and URL in the config dir).' }),
  };

  async run(): Promise<void> {
    const client = await this.client();
    const url = this.flags['forward-to'];
    const state = this.flags.state ?? defaultStatePath(process.env, client.baseUrl, url);
    // Checked now rather than at the first event: signing without a secret cannot work.
    client.webhooks.sign('', this.flags.secret);
    const lastEventId = await readLastEventId(state);
    this.logToStderr(`Forwarding events of ${client.baseUrl} to ${url} (${lastEventId ? `resuming after ${lastEventId}` : 'from now'}; state in ${state})`);
    for await (const event of client.events.stream({ lastEventId })) {
      const out = await forward(client, url, event, this.flags.secret, (attempt, why) => this.logToStderr(paint.yellow(`${event.id} attempt ${attempt}: ${why}; retrying`)));
      await writeLastEventId(state, event.id);
      if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify({ id: event.id, type: event.type, job_id: event.job.id, status: out.status, attempts: out.attempts })}\n`);
      else this.log(`${paint.dim(new Date().toISOString().slice(11, 19))} ${event.type.padEnd(13)} ${event.job.id} ${colorStatus(event.job.status)} → ${out.status}`);
    }
  }
}
