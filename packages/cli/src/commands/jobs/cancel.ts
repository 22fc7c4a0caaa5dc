import { Args } from '@oclif/core';
import type { Job } from '@clickvid/sdk';
import { BaseCommand } from '../../base.js';
import { JSON_EXAMPLES } from '../../internal/json-examples.js';

export default class JobsCancel extends BaseCommand<typeof JobsCancel> {
  static override description = 'Cancel a queued or running job.';
  static jsonExample = JSON_EXAMPLES.job;
  static override args = { id: Args.string({ description: 'Job id.', required: true }) };

  async run(): Promise<Job> {
    const job = await (await this.client()).jobs.cancel(this.args.id);
    this.printJob(job);
    return job;
  }
}
