import { Args } from '@oclif/core';
import type { Job } from '@clickvid/sdk';
import { BaseCommand } from '../../base.js';

export default class JobsGet extends BaseCommand<typeof JobsGet> {
  static override description = 'Show a job: status, progress, parameters, cost.';
  static override args = { id: Args.string({ description: 'Job id.', required: true }) };

  async run(): Promise<Job> {
    const job = await (await this.client()).jobs.retrieve(this.args.id);
    this.printJob(job);
    return job;
  }
}
