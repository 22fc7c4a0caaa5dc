import type { Job } from '@clickvid/contracts';
import type { ChainableCommander, Redis } from 'ioredis';
import { keys } from './keys.js';

const HASH = keys.metrics();

/** Histograms every process can observe into; the server renders them at /metrics. */
export const HISTOGRAMS = {
  clickvid_batch_size: { help: 'Videos per inference batch.', buckets: [1, 2, 3, 4, 6, 8, 12, 16, 24, 32] },
  clickvid_queue_wait_seconds: { help: 'Time from submit to start of work.', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900] },
  clickvid_inference_seconds: { help: 'Wall time of one batched session.run.', buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] },
  clickvid_encode_seconds: { help: 'Wall time to encode one video and its poster.', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] },
  clickvid_job_duration_seconds: { help: 'Submit to terminal state.', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900] },
} as const;

export const COUNTERS = {
  clickvid_jobs_total: 'Jobs that reached a terminal state.',
  clickvid_gpu_seconds_total: 'Metered compute seconds.',
  clickvid_cache_hits_total: 'Jobs served from the output cache.',
  clickvid_redeliveries_total: 'Jobs started again while an attempt held them: its worker died, or lost its lock while alive.',
  clickvid_false_stalls_total: 'Attempts that found, while alive, that their job had been redelivered (lock lost: an event-loop stall, a Redis failover); worker deaths = redeliveries - false stalls.',
} as const;

export type HistogramName = keyof typeof HISTOGRAMS;
export type CounterName = keyof typeof COUNTERS;
type Labels = Record<string, string>;

/**
 * The labels of a job's terminal series: its tier and the model version that made it (bounded:
 * a stable and a canary version at a time). Never the campaign — spend per campaign is /v1/usage.
 */
export const jobLabels = (job: Pick<Job, 'quality' | 'model'>): Labels => ({ quality: job.quality, model_version: job.model.version });

const labelKey = (l: Labels) =>
  Object.keys(l)
    .sort()
    .map((k) => `${k}="${String(l[k]).replace(/["\\\n]/g, '_')}"`)
    .join(',');

/** One `HINCRBYFLOAT` of the metrics hash: a field and the amount. Lifecycle scripts write these. */
export type MetricField = [field: string, by: number];

/** The hash field a counter increment touches. */
export function counterFields(name: CounterName, labels: Labels, by = 1): MetricField[] {
  return [[`${name}|${labelKey(labels)}|value`, by]];
}

/** The hash fields one histogram observation touches: its buckets, +Inf and sum. */
export function histogramFields(name: HistogramName, labels: Labels, value: number): MetricField[] {
  const lk = labelKey(labels);
  const out: MetricField[] = [];
  for (const b of HISTOGRAMS[name].buckets) if (value <= b) out.push([`${name}|${lk}|${b}`, 1]);
  out.push([`${name}|${lk}|+Inf`, 1], [`${name}|${lk}|sum`, value]);
  return out;
}

/**
 * Cluster-wide counters and histograms kept in one Redis hash, so that what workers
 * observe (batch sizes, inference time) is scraped from the API server like the rest.
 * Every replica would render the same numbers, so they are served apart from the
 * process's own metrics (`/metrics/cluster`) and scraped once, through the Service.
 */
export class ClusterMetrics {
  constructor(private readonly redis: Redis) {}

  observe(name: HistogramName, labels: Labels, value: number, tx?: ChainableCommander): void {
    const p = tx ?? this.redis.pipeline();
    for (const [f, by] of histogramFields(name, labels, value)) p.hincrbyfloat(HASH, f, by);
    if (!tx) void p.exec().catch(() => undefined);
  }

  inc(name: CounterName, labels: Labels, by = 1, tx?: ChainableCommander): void {
    const p = tx ?? this.redis.pipeline();
    for (const [f, n] of counterFields(name, labels, by)) p.hincrbyfloat(HASH, f, n);
    if (!tx) void p.exec().catch(() => undefined);
  }

  /** Prometheus text exposition of everything recorded. */
  async render(): Promise<string> {
    const all = await this.redis.hgetall(HASH);
    const series = new Map<string, Map<string, Map<string, number>>>();
    for (const [field, v] of Object.entries(all)) {
      // name|labels|part: a label value may hold a '|' (a pipeline's engine variant did), the name and part never do.
      const first = field.indexOf('|');
      const last = field.lastIndexOf('|');
      const [name, lk, part] = [field.slice(0, first), field.slice(first + 1, last), field.slice(last + 1)];
      const byLabels = series.get(name) ?? new Map();
      const parts = byLabels.get(lk) ?? new Map();
      parts.set(part, Number(v));
      byLabels.set(lk, parts);
      series.set(name, byLabels);
    }
    const out: string[] = [];
    const lbl = (lk: string, extra?: string) => {
      const s = [lk, extra].filter(Boolean).join(',');
      return s ? `{${s}}` : '';
    };
    for (const [name, help] of Object.entries(COUNTERS)) {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [lk, parts] of series.get(name) ?? []) out.push(`${name}${lbl(lk)} ${parts.get('value') ?? 0}`);
    }
    for (const [name, def] of Object.entries(HISTOGRAMS)) {
      out.push(`# HELP ${name} ${def.help}`, `# TYPE ${name} histogram`);
      for (const [lk, parts] of series.get(name) ?? []) {
        for (const b of def.buckets) out.push(`${name}_bucket${lbl(lk, `le="${b}"`)} ${parts.get(String(b)) ?? 0}`);
        const count = parts.get('+Inf') ?? 0;
        out.push(`${name}_bucket${lbl(lk, 'le="+Inf"')} ${count}`);
        out.push(`${name}_sum${lbl(lk)} ${parts.get('sum') ?? 0}`);
        out.push(`${name}_count${lbl(lk)} ${count}`);
      }
    }
    return `${out.join('\n')}\n`;
  }
}
