import { Flags } from '@oclif/core';
import type { UsageReport } from '@clickvid/sdk';
import { BaseCommand } from '../base.js';
import { round, table } from '../internal/format.js';
import { JSON_EXAMPLES } from '../internal/json-examples.js';

export default class Usage extends BaseCommand<typeof Usage> {
  static override description = 'GPU-seconds and credits of your team, per day, quality, model version and campaign.';
  static jsonExample = JSON_EXAMPLES.usage;
  static override flags = {
    from: Flags.string({ description: 'First day (YYYY-MM-DD).' }),
    to: Flags.string({ description: 'Last day (YYYY-MM-DD).' }),
  };

  async run(): Promise<UsageReport> {
    const report = await (await this.client()).usage.retrieve({ from: this.flags.from, to: this.flags.to });
    this.log(`team ${report.team}, ${report.from} .. ${report.to}`);
    this.log(
      table(
        ['DAY', 'QUALITY', 'MODEL', 'CAMPAIGN', 'JOBS', 'GPU-S', 'CREDITS'],
        report.data.map((r) => [r.day, r.quality, r.model_version ?? '-', r.campaign ?? '-', String(r.jobs), String(round(r.gpu_seconds)), String(round(r.credits))]),
      ),
    );
    this.log(`total ${report.totals.jobs} jobs, ${round(report.totals.gpu_seconds)} gpu-s, ${round(report.totals.credits)} credits`);
    const quota = report.quota.gpu_seconds_per_day;
    this.log(`today ${round(report.quota.used_today)} gpu-s used${quota === null ? ' (no daily quota)' : ` of ${quota}`}`);
    return report;
  }
}
