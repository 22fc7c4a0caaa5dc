import { Args, Flags } from '@oclif/core';
import { BaseCommand, type JobResult } from '../base.js';
import { numberFlag, parsePairs, timeoutFlag } from '../internal/flags.js';
import { JSON_EXAMPLES } from '../internal/json-examples.js';

export default class Generate extends BaseCommand<typeof Generate> {
  static override description = 'Render a short video from a prompt.';
  static jsonExample = JSON_EXAMPLES.jobResult;

  static override examples = [
    '<%= config.bin %> generate "two red circles moving right on a blue background" --wait',
    '<%= config.bin %> generate "a green square bouncing" --quality final --out square.mp4',
    '<%= config.bin %> generate --from job_abc123 --seed 42 --wait',
  ];

  static override args = {
    prompt: Args.string({ description: 'What the video shows (optional with --from).' }),
  };

  static override flags = {
    'aspect-ratio': Flags.string({ description: 'Frame shape.', options: ['1:1', '16:9', '9:16', '4:5'] }),
    duration: numberFlag({ description: 'Length in seconds.' }),
    fps: Flags.integer({ description: 'Frames per second.', min: 1, max: 60 }),
    from: Flags.string({ description: 'Iterate on this job: inherit its prompt, seed and parameters; flags override.' }),
    'idempotency-key': Flags.string({ description: 'Make a retried submit safe: the same key and body never render twice.' }),
    metadata: Flags.string({ description: 'key=value tag (repeatable); `campaign` groups cost in usage reports.', multiple: true }),
    out: Flags.string({ char: 'o', description: 'Download the video to this file (implies --wait).' }),
    quality: Flags.string({ char: 'q', description: 'Quality tier.', options: ['draft', 'standard', 'final'] }),
    seed: Flags.integer({ description: 'Random seed, for a repeatable render.', min: 0 }),
    timeout: timeoutFlag,
    wait: Flags.boolean({ char: 'w', description: 'Wait until the video is ready.' }),
    'webhook-url': Flags.string({ description: 'POST the finished job here (Standard Webhooks signature).' }),
  };

  async run(): Promise<JobResult> {
    const { flags, args } = this;
    if (!args.prompt && !flags.from) this.error('Give a prompt, or --from JOB to iterate on a job.', { exit: 2 });
    const client = await this.client();
    const job = await client.generate(
      {
        prompt: args.prompt,
        quality: flags.quality as 'draft' | 'standard' | 'final' | undefined,
        duration_s: flags.duration,
        fps: flags.fps,
        aspect_ratio: flags['aspect-ratio'] as '1:1' | '16:9' | '9:16' | '4:5' | undefined,
        seed: flags.seed,
        from_job: flags.from,
        webhook_url: flags['webhook-url'],
        metadata: parsePairs(flags.metadata),
      },
      { idempotencyKey: flags['idempotency-key'] },
    );
    const result = await this.follow(job, { wait: flags.wait, out: flags.out, timeoutS: flags.timeout });
    this.printJob(result);
    return result;
  }
}
