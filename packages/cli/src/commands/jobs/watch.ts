import { Args } from '@oclif/core';
import type { JobEvent } from '@clickvid/sdk';
import { BaseCommand } from '../../base.js';
import { colorStatus } from '../../internal/format.js';
import { paint } from '../../internal/style.js';
import { JSON_EXAMPLES } from '../../internal/json-examples.js';

export default class JobsWatch extends BaseCommand<typeof JobsWatch> {
  static override description = 'Print a job\'s live events, one line each (NDJSON with --json), until it finishes.';
  static jsonExample = JSON_EXAMPLES.jobEvents;
  static jsonLines = true;
  static override args = { id: Args.string({ description: 'Job id.', required: true }) };

  async run(): Promise<void> {
    const client = await this.client();
    for await (const event of client.jobs.stream(this.args.id)) {
      // NDJSON rather than one document at the end: a watcher wants each event as it happens.
      if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify(event)}\n`);
      else this.log(line(event));
    }
  }
}

function line(event: JobEvent): string {
  const time = paint.dim(new Date().toISOString().slice(11, 19));
  const job = event.job;
  if (!job) return `${time} ${event.type}`;
  const where = job.status === 'queued' && job.queue_position !== null ? ` position ${job.queue_position}` : '';
  const pct = job.status === 'running' ? ` ${Math.round(job.progress * 100)}%` : '';
  const err = job.error ? ` ${paint.red(`[${job.error.code}] ${job.error.message}`)}` : '';
  return `${time} ${event.type.padEnd(9)} ${colorStatus(job.status)}${where}${pct}${err}`;
}
