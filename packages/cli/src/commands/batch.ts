import { resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { ClickvidError } from '@clickvid/sdk';
import { BaseCommand } from '../base.js';
import { numberFlag } from '../internal/flags.js';
import { round } from '../internal/format.js';
import { paint, plain } from '../internal/style.js';
import { readManifest } from '../internal/batch/manifest.js';
import { toJUnit } from '../internal/batch/report.js';
import { runBatch, type BatchProgress, type BatchSummary } from '../internal/batch/runner.js';
import type { RowState } from '../internal/batch/state.js';
import { atomicWrite } from '../internal/batch/state.js';
import { JSON_EXAMPLES } from '../internal/json-examples.js';

export default class Batch extends BaseCommand<typeof Batch> {
  static override description = `Render every row of a manifest (.jsonl or .csv), for CI.

Rows are {prompt, quality?, seed?, name?, metadata?}; a CSV has a header row with prompt,quality,seed,name and metadata.<key> columns. Each row's Idempotency-Key derives from the manifest's sha256, the row index and the request, so a re-run or --resume never renders a row twice. Progress is kept in <out-dir>/.clickvid-batch.json.

--budget-gpu-seconds checks the tiers' estimates from GET /v1/models (the figure the server puts on each job) before submitting anything, refuses to start when it is over, and stops submitting once actual spend would pass it.`;

  static jsonExample = JSON_EXAMPLES.batch;

  static override examples = [
    '<%= config.bin %> batch campaign.jsonl --concurrency 8 --report summary.json',
    '<%= config.bin %> batch campaign.csv --budget-gpu-seconds 30 --report junit.xml --resume',
  ];

  static override args = {
    manifest: Args.string({ description: 'manifest.jsonl or manifest.csv', required: true }),
  };

  static override flags = {
    'budget-gpu-seconds': numberFlag({ description: 'Refuse to start, or stop submitting, past this many GPU-seconds.' }),
    concurrency: Flags.integer({ char: 'c', description: 'Rows in flight at once.', default: 4, min: 1, max: 64 }),
    'out-dir': Flags.string({ char: 'd', description: 'Where videos and the state file go.', default: './renders' }),
    quality: Flags.string({ char: 'q', description: 'Quality of rows that name none.', options: ['draft', 'standard', 'final'] }),
    report: Flags.string({ description: 'Write the summary here: JUnit XML if it ends with .xml, JSON otherwise.' }),
    resume: Flags.boolean({ description: 'Continue from the state file: skip downloaded rows, re-attach to submitted ones.' }),
  };

  async run(): Promise<BatchSummary> {
    const { flags } = this;
    const client = await this.client();
    const manifest = await readManifest(this.args.manifest);
    const outDir = resolve(flags['out-dir']);
    const bar = process.stderr.isTTY && !this.jsonEnabled();
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);

    let summary: BatchSummary;
    try {
      if (bar) process.stderr.write(drawBar({ done: 0, total: manifest.rows.length, ok: 0, failed: 0, skipped: 0, gpuSeconds: 0 }));
      summary = await runBatch({
        client,
        manifest,
        outDir,
        concurrency: flags.concurrency,
        quality: flags.quality as 'draft' | 'standard' | 'final' | undefined,
        budgetGpuSeconds: flags['budget-gpu-seconds'],
        resume: flags.resume,
        signal: controller.signal,
        onRow: (row, progress) => {
          if (bar) process.stderr.write(`\r\u001b[2K${rowLine(row, progress)}\n${drawBar(progress)}`);
          // In CI (no TTY) one plain line per row; on stderr with --json so stdout stays JSON.
          else if (this.jsonEnabled()) process.stderr.write(`${rowLine(row, progress, false)}\n`);
          else this.log(rowLine(row, progress, false));
        },
      });
    } catch (err) {
      if (!controller.signal.aborted) throw err;
      // Every finished step is already in the state file: resuming picks up from there.
      throw new ClickvidError(`Interrupted; progress is saved. Continue with: clickvid batch ${this.args.manifest} --resume`, { code: 'interrupted', cause: err });
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      if (bar) process.stderr.write('\n');
    }

    if (flags.report) {
      const text = flags.report.toLowerCase().endsWith('.xml') ? toJUnit(summary) : `${JSON.stringify(summary, null, 2)}\n`;
      await atomicWrite(resolve(flags.report), text);
    }
    this.log(
      `${summary.ok} ok, ${summary.failed} failed, ${summary.skipped} skipped of ${summary.total}; ` +
        `${round(summary.gpu_seconds)} gpu-s, ${round(summary.credits)} credits; videos in ${summary.out_dir}`,
    );
    if (summary.error) {
      if (this.jsonEnabled()) process.exitCode = 1;
      else throw new ClickvidError(summary.error.message, { code: summary.error.code });
    }
    return summary;
  }
}

/** `[3/20] ok name.mp4 (1.2s, 0.004 gpu-s)` */
function rowLine(row: RowState, p: BatchProgress, colour = true): string {
  const c = colour ? paint : plain;
  const head = `[${p.done}/${p.total}]`;
  if (row.status === 'downloaded') {
    return `${head} ${c.green('ok')} ${row.file} (${(row.seconds ?? 0).toFixed(1)}s, ${round(row.gpu_seconds ?? 0)} gpu-s)`;
  }
  const what = row.status === 'skipped' ? c.yellow('skipped') : c.red('failed');
  return `${head} ${what} ${row.file} [${row.error?.code ?? row.status}] ${row.error?.message ?? ''}${row.job_id ? ` (job ${row.job_id})` : ''}`;
}

function drawBar(p: BatchProgress): string {
  const width = 30;
  const filled = p.total === 0 ? width : Math.round((p.done / p.total) * width);
  return `\r\u001b[2K[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${p.done}/${p.total}  ${paint.green(`${p.ok} ok`)}  ${p.failed ? paint.red(`${p.failed} failed`) : '0 failed'}  ${round(p.gpuSeconds)} gpu-s`;
}
