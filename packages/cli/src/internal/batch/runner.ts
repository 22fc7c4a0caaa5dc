import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Quality } from '@clickvid/contracts';
import { ClickvidError, JobFailedError, type Clickvid, type Job } from '@clickvid/sdk';
import type { Manifest } from './manifest.js';
import { estimateGpuSeconds, planRows, type PlannedRow } from './plan.js';
import { StateFile, type RowState } from './state.js';

export interface BatchOptions {
  client: Clickvid;
  manifest: Manifest;
  outDir: string;
  /** @defaultValue 4 */
  concurrency?: number | undefined;
  /** Default quality of rows that name none. @defaultValue the server's (draft) */
  quality?: Quality | undefined;
  /** Refuse to start, or stop submitting, past this many GPU-seconds. */
  budgetGpuSeconds?: number | undefined;
  resume?: boolean | undefined;
  /** Per-row wait limit. @defaultValue 1800000 (30 min) */
  waitTimeoutMs?: number | undefined;
  /** Told about every row that finishes (ok, failed or skipped). */
  onRow?: ((row: RowState, progress: BatchProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export interface BatchProgress {
  done: number;
  total: number;
  ok: number;
  failed: number;
  skipped: number;
  gpuSeconds: number;
}

export interface BatchSummary {
  object: 'batch';
  manifest: { path: string; sha256: string };
  out_dir: string;
  state_file: string;
  total: number;
  ok: number;
  failed: number;
  skipped: number;
  gpu_seconds: number;
  credits: number;
  /** Our upfront estimate of the rows this run had to render (see estimateGpuSeconds); null without a budget. */
  estimate_gpu_seconds: number | null;
  budget_gpu_seconds: number | null;
  rows: RowState[];
  /** Set when the batch did not fully succeed; the CLI exits non-zero. */
  error?: { code: 'batch_failed' | 'budget_exceeded'; message: string };
}

/**
 * Render every row of a manifest: submit with the row's idempotency key,
 * wait, download right away (signed URLs are short-lived), and record each
 * step in the state file. Rows already downloaded (file still there) are
 * skipped; rows with a job id are re-attached to, not resubmitted.
 */
export async function runBatch(options: BatchOptions): Promise<BatchSummary> {
  const { client, manifest, outDir } = options;
  const plan = planRows(manifest, { quality: options.quality });
  const state = await StateFile.open(outDir, manifest, plan, options.resume ?? false);

  const isDone = async (row: RowState) =>
    row.status === 'downloaded' && (await stat(join(outDir, row.file)).then((s) => s.size === row.bytes, () => false));
  const todo: PlannedRow[] = [];
  for (const p of plan) if (!(await isDone(state.row(p.index)))) todo.push(p);

  const progress: BatchProgress = { done: plan.length - todo.length, total: plan.length, ok: plan.length - todo.length, failed: 0, skipped: 0, gpuSeconds: 0 };
  for (const row of state.state.rows) if (row.status === 'downloaded') progress.gpuSeconds += row.gpu_seconds ?? 0;

  // Budget: GPU-seconds already spent by finished rows + our estimate of every row still to render.
  const budget = options.budgetGpuSeconds;
  let estimate: ((p: PlannedRow) => number) | undefined;
  let estimateTotal: number | null = null;
  if (budget !== undefined) {
    const models = await client.models.list({ signal: options.signal });
    const perQuality = new Map<Quality, number>();
    estimate = (p) => {
      const q = p.request.quality ?? 'draft';
      if (!perQuality.has(q)) perQuality.set(q, estimateGpuSeconds(models, q));
      return perQuality.get(q)!;
    };
    estimateTotal = todo.reduce((sum, p) => sum + estimate!(p), 0);
    if (progress.gpuSeconds + estimateTotal > budget) {
      throw new ClickvidError(
        `This batch would use about ${fmt(progress.gpuSeconds + estimateTotal)} GPU-seconds (${todo.length} rows to render${progress.gpuSeconds ? `, ${fmt(progress.gpuSeconds)} already spent` : ''}), over the budget of ${budget}.`,
        { code: 'budget_exceeded' },
      );
    }
  }

  let inFlightEstimate = 0;
  let budgetHit = false;
  const finish = async (index: number, patch: Partial<RowState>) => {
    await state.update(index, patch);
    const row = state.row(index);
    progress.done++;
    if (row.status === 'downloaded') progress.ok++;
    else if (row.status === 'skipped') progress.skipped++;
    else progress.failed++;
    progress.gpuSeconds += row.gpu_seconds ?? 0;
    options.onRow?.(row, { ...progress });
  };

  const renderRow = async (p: PlannedRow) => {
    const row = state.row(p.index);
    const cost = estimate?.(p) ?? 0;
    // Stop submitting once what is spent, plus what is running, plus this row would pass the budget.
    if (budget !== undefined && !row.job_id && progress.gpuSeconds + inFlightEstimate + cost > budget) {
      budgetHit = true;
      await finish(p.index, { status: 'skipped', error: { code: 'budget_exceeded', message: `not submitted: the budget of ${budget} GPU-seconds is spent` } });
      return;
    }
    inFlightEstimate += cost;
    const started = Date.now();
    let job: Job | undefined;
    try {
      if (!row.job_id) {
        const submitted = await client.generate(p.request, { idempotencyKey: p.idempotencyKey, signal: options.signal });
        await state.update(p.index, { status: 'submitted', job_id: submitted.id, error: null });
      }
      job = await client.jobs.wait(row.job_id!, { timeoutMs: options.waitTimeoutMs ?? 1_800_000, signal: options.signal });
      const saved = await client.assets.download(job.assets!.video, { path: join(outDir, p.file), signal: options.signal });
      await finish(p.index, {
        status: 'downloaded', bytes: saved.bytes, gpu_seconds: job.usage?.gpu_seconds ?? 0, credits: job.usage?.credits ?? 0,
        seconds: (Date.now() - started) / 1000, error: null,
      });
    } catch (err) {
      if (options.signal?.aborted) throw err;
      const failedJob = err instanceof JobFailedError ? err.job : job;
      await finish(p.index, {
        status: 'failed',
        gpu_seconds: failedJob?.usage?.gpu_seconds ?? null,
        credits: failedJob?.usage?.credits ?? null,
        seconds: (Date.now() - started) / 1000,
        error: { code: err instanceof ClickvidError ? err.code : 'error', message: err instanceof Error ? err.message : String(err) },
      });
    } finally {
      inFlightEstimate -= cost;
    }
  };

  const queue = [...todo];
  const workers = Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, queue.length)) }, async () => {
    for (let p = queue.shift(); p; p = queue.shift()) await renderRow(p);
  });
  await Promise.all(workers);

  const rows = state.state.rows;
  const summary: BatchSummary = {
    object: 'batch',
    manifest: { path: manifest.path, sha256: manifest.sha256 },
    out_dir: outDir,
    state_file: state.path,
    total: rows.length,
    ok: rows.filter((r) => r.status === 'downloaded').length,
    failed: rows.filter((r) => r.status === 'failed').length,
    skipped: rows.filter((r) => r.status === 'skipped').length,
    gpu_seconds: round(rows.reduce((s, r) => s + (r.gpu_seconds ?? 0), 0)),
    credits: round(rows.reduce((s, r) => s + (r.credits ?? 0), 0)),
    estimate_gpu_seconds: estimateTotal === null ? null : round(estimateTotal),
    budget_gpu_seconds: budget ?? null,
    rows,
  };
  if (budgetHit) summary.error = { code: 'budget_exceeded', message: `Stopped submitting at the budget of ${budget} GPU-seconds: ${summary.skipped} rows not rendered.` };
  else if (summary.failed > 0) summary.error = { code: 'batch_failed', message: `${summary.failed} of ${summary.total} rows failed.` };
  return summary;
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

function fmt(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}
