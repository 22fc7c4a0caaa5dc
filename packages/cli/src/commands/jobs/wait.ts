import { Args, Flags } from '@oclif/core';
import { BaseCommand, type JobResult } from '../../base.js';
import { timeoutFlag } from '../../internal/flags.js';
import { JSON_EXAMPLES } from '../../internal/json-examples.js';

export default class JobsWait extends BaseCommand<typeof JobsWait> {
  static override description = 'Wait for a job to finish (again, if an earlier wait gave up), optionally downloading its video.';
  static jsonExample = JSON_EXAMPLES.jobResult;
  static override args = { id: Args.string({ description: 'Job id.', required: true }) };
  static override flags = {
    out: Flags.string({ char: 'o', description: 'Download the video to this file.' }),
    timeout: timeoutFlag,
  };

  async run(): Promise<JobResult> {
    const job = await (await this.client()).jobs.retrieve(this.args.id);
    const result = await this.follow(job, { wait: true, out: this.flags.out, timeoutS: this.flags.timeout });
    this.printJob(result);
    return result;
  }
}
