import { Args, Flags } from '@oclif/core';
import type { PromptCheck } from '@clickvid/sdk';
import { BaseCommand } from '../../base.js';
import { numberFlag } from '../../internal/flags.js';
import { JSON_EXAMPLES } from '../../internal/json-examples.js';
import { paint } from '../../internal/style.js';

export default class PromptsCheck extends BaseCommand<typeof PromptsCheck> {
  static override description = 'How the model reads a prompt, before you submit it: unknown words, warnings, refusal, cost.';

  static override examples = [
    '<%= config.bin %> prompts check "2 red balls rising on a black backdrop"',
    '<%= config.bin %> prompts check "a cat on a sofa" --json',
  ];

  static jsonExample = JSON_EXAMPLES.promptCheck;

  static override args = { prompt: Args.string({ description: 'The prompt to check.', required: true }) };

  static override flags = {
    'aspect-ratio': Flags.string({ description: 'Frame shape.', options: ['1:1', '16:9', '9:16', '4:5'] }),
    duration: numberFlag({ description: 'Length in seconds.' }),
    fps: Flags.integer({ description: 'Frames per second.', min: 1, max: 60 }),
    quality: Flags.string({ char: 'q', description: 'Quality tier.', options: ['draft', 'standard', 'final'] }),
  };

  /** Exit code 1 when a submit would be refused, so scripts can check before they spend. */
  async run(): Promise<PromptCheck> {
    const { flags, args } = this;
    const check = await (await this.client()).prompts.check({
      prompt: args.prompt,
      quality: flags.quality as 'draft' | 'standard' | 'final' | undefined,
      duration_s: flags.duration,
      fps: flags.fps,
      aspect_ratio: flags['aspect-ratio'] as '1:1' | '16:9' | '9:16' | '4:5' | undefined,
    });
    this.log(`reads as  ${check.normalized}`);
    if (check.unknown.length) this.log(`unknown   ${check.unknown.join(', ')}`);
    for (const w of check.warnings) this.note(w);
    const p = check.params;
    this.log(`${check.quality.padEnd(9)} ${check.model.id}@${check.model.version} ${check.model.variant}, ${p.width}x${p.height}, ${p.frames} frames at ${p.fps} fps`);
    this.log(`estimate  ${check.estimate.gpu_seconds} gpu-s, ${check.estimate.credits} credits`);
    if (check.error) {
      process.exitCode = 1;
      this.logToStderr(`${paint.red(`would be refused [${check.error.code}]:`)} ${check.error.message}`);
      const { hint, vocabulary } = check.error.details ?? {};
      if (typeof hint === 'string') this.logToStderr(`  ${hint}`);
      if (Array.isArray(vocabulary)) this.logToStderr(`  Known words: ${vocabulary.join(', ')}`);
    }
    return check;
  }
}
