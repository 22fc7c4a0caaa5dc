import { paint } from './style.js';
import type { Job } from '@clickvid/sdk';

/** `draft 64x64 8 fps 1 s seed 7` */
export function describeParams(job: Job): string {
  const p = job.params;
  return `${job.quality} ${p.width}x${p.height} ${p.fps} fps ${p.duration_s} s seed ${p.seed}`;
}

/** `0.004 gpu-s, 0.004 credits` from usage when finished, else `~0.01 gpu-s (estimate)`. */
export function describeCost(job: Job): string {
  if (job.usage) return `${round(job.usage.gpu_seconds)} gpu-s, ${round(job.usage.credits)} credits${job.cache_hit ? ' (cache hit)' : ''}`;
  return `~${round(job.estimate.gpu_seconds)} gpu-s, ~${round(job.estimate.credits)} credits (estimate)`;
}

/** What a spinner says while waiting. */
export function describeProgress(job: Job): string {
  if (job.status === 'queued') return `${job.id} queued${job.queue_position !== null ? ` (position ${job.queue_position})` : ''}`;
  if (job.status === 'running') return `${job.id} running ${Math.round(job.progress * 100)}%`;
  return `${job.id} ${job.status}`;
}

/** A job's or a webhook delivery's status, coloured by outcome. */
export function colorStatus(status: Job['status'] | 'pending'): string {
  if (status === 'succeeded') return paint.green(status);
  if (status === 'failed') return paint.red(status);
  if (status === 'canceled') return paint.gray(status);
  return paint.cyan(status);
}

/** The human summary of a job, one `key  value` per line. */
export function jobLines(job: Job): string[] {
  const lines = [
    `${paint.bold(job.id)}  ${colorStatus(job.status)}`,
    `  prompt   ${job.prompt}`,
    `  params   ${describeParams(job)}`,
    `  model    ${job.model.id}@${job.model.version} (${job.model.variant})`,
    `  cost     ${describeCost(job)}`,
  ];
  if (job.parent_job_id) lines.push(`  parent   ${job.parent_job_id}`);
  if (job.assets) lines.push(`  assets   video ${job.assets.video}, poster ${job.assets.poster}`);
  if (job.error) lines.push(`  error    ${paint.red(`[${job.error.code}] ${job.error.message}`)}`);
  return lines;
}

/** A plain-text table; column widths fit the widest cell (ANSI colour codes excluded). */
export function table(headers: string[], rows: string[][]): string {
  const visible = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '').length;
  const widths = headers.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i] ?? ''))));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - visible(c)))).join('  ');
  return [paint.bold(line(headers)), ...rows.map(line)].join('\n');
}

export function round(n: number): number {
  return Math.round(n * 10_000) / 10_000;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
