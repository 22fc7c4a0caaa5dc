import { Args, Flags } from '@oclif/core';
import { BaseCommand, type JobResult } from '../base.js';
import { timeoutFlag } from '../internal/flags.js';
import { JSON_EXAMPLES } from '../internal/json-examples.js';

export default class Promote extends BaseCommand<typeof Promote> {
  static override description = 'Render a job again at a higher quality: same prompt, seed and framing.';
  static jsonExample = JSON_EXAMPLES.jobResult;

  static override examples = ['<%= config.bin %> promote job_abc123 --wait --out final.mp4'];

  static override args = {
    job: Args.string({ description: 'The job to promote.', required: true }),
  };

  static override flags = {
    'idempotency-key': Flags.string({ description: 'Idempotency-Key of the promote request.' }),
    out: Flags.string({ char: 'o', description: 'Download the video to this file (implies --wait).' }),
    quality: Flags.string({ char: 'q', description: 'Target quality.', options: ['standard', 'final'], default: 'final' }),
    timeout: timeoutFlag,
    wait: Flags.boolean({ char: 'w', description: 'Wait until the video is ready.' }),
    'webhook-url': Flags.string({ description: 'POST the finished job here.' }),
  };

  async run(): Promise<JobResult> {
    const { flags, args } = this;
    const client = await this.client();
    const job = await client.jobs.promote(
      args.job,
      { quality: flags.quality as 'standard' | 'final', webhookUrl: flags['webhook-url'] },
      { idempotencyKey: flags['idempotency-key'] },
    );
    const result = await this.follow(job, { wait: flags.wait, out: flags.out, timeoutS: flags.timeout });
    this.printJob(result);
    return result;
  }
}
