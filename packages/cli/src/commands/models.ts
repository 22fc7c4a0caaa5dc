import type { ModelList } from '@clickvid/sdk';
import { BaseCommand } from '../base.js';
import { round, table } from '../internal/format.js';
import { JSON_EXAMPLES } from '../internal/json-examples.js';

export default class Models extends BaseCommand<typeof Models> {
  static override description = 'Models, their versions (stable and canary, with their share of new jobs), quality tiers and measured cost.';
  static jsonExample = JSON_EXAMPLES.models;

  async run(): Promise<ModelList> {
    const models = await (await this.client()).models.list();
    for (const m of models.data) {
      this.log(`${m.id}@${m.version}  ${m.channel}, ${round(m.traffic_share * 100)} % of new jobs  ${m.description}`);
      this.log(
        table(
          ['QUALITY', 'VARIANT', 'SIZE', 'FPS', 'DURATION', 'MAX BATCH', 'MS/VIDEO (batch 1)', 'CREDITS/GPU-S'],
          m.tiers.map((t) => [
            t.quality, `${t.variant} (${t.precision})`, `${t.width}x${t.height}`, String(t.fps), `${t.duration_s} s (max ${t.max_duration_s})`,
            String(t.max_batch), String(t.ms_per_video['1'] ?? Object.values(t.ms_per_video)[0] ?? '-'), String(t.credits_per_gpu_second),
          ]),
        ),
      );
      this.log('');
    }
    return models;
  }
}
