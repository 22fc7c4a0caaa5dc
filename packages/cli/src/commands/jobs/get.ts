import { Args } from '@oclif/core';
import type { Job } from '@clickvid/sdk';
import { BaseCommand } from '../../base.js';
import { JSON_EXAMPLES } from '../../internal/json-examples.js';

export default class JobsGet extends BaseCommand<typeof JobsGet> {
  static override description = 'Show a job: status, progress, parameters, cost.';
  static jsonExample = JSON_EXAMPLES.job;
  static override args = { id: Args.string({ description: 'Job id.', required: true }) };

  async run(): Promise<Job> {
    const job = await (await this.client()).jobs.retrieve(this.args.id);
    this.printJob(job);
    return job;
  }
}
