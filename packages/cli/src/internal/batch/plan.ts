import { createHash } from 'node:crypto';
import type { GenerateRequest, ModelList, Quality } from '@clickvid/contracts';
import { ClickvidError } from '@clickvid/sdk';
import type { Manifest, ManifestRow } from './manifest.js';

/** A manifest row turned into a request, with its file name and idempotency key. */
export interface PlannedRow {
  index: number;
  name: string;
  /** File name inside the output directory. */
  file: string;
  request: GenerateRequest;
  idempotencyKey: string;
}

/**
 * Plan every row. A row's `quality` wins over the `--quality` default. The key
 * hashes the manifest's sha256, the row index and the request body, so the same
 * manifest re-run (or resumed after a crash) sends the same key for the same row
 * and the server replays the job instead of rendering it twice.
 */
export function planRows(manifest: Manifest, defaults: { quality?: Quality | undefined } = {}): PlannedRow[] {
  const used = new Set<string>();
  return manifest.rows.map((row, index) => {
    const request = toRequest(row, defaults.quality);
    let base = safeName(row.name) || `row-${String(index + 1).padStart(4, '0')}`;
    if (used.has(base)) base = `${base}-${index + 1}`;
    used.add(base);
    return { index, name: base, file: `${base}.mp4`, request, idempotencyKey: rowKey(manifest.sha256, index, request) };
  });
}

export function rowKey(manifestSha256: string, index: number, request: GenerateRequest): string {
  const digest = createHash('sha256').update(`${manifestSha256}\n${index}\n${canonicalJson(request)}`).digest('hex');
  return `cvb-${digest.slice(0, 48)}`;
}

function toRequest(row: ManifestRow, quality: Quality | undefined): GenerateRequest {
  const request: GenerateRequest = { prompt: row.prompt };
  const q = row.quality ?? quality;
  if (q) request.quality = q;
  if (row.seed !== undefined) request.seed = row.seed;
  if (row.metadata && Object.keys(row.metadata).length > 0) request.metadata = row.metadata;
  return request;
}

/** File-system-safe: letters, digits, dot, dash, underscore. */
function safeName(name: string | undefined): string {
  return (name ?? '').replace(/\.mp4$/i, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '').slice(0, 100);
}

/** JSON with object keys sorted, so equal requests hash equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * GPU-seconds one render of `quality` at the tier's default size is expected to
 * cost, before anything is submitted: the tier's `estimate_gpu_seconds` from
 * GET /v1/models, which the server computes exactly as it computes `job.estimate`.
 * Uses the first model that has the tier (the server's default model). It is an
 * estimate: actual spend is checked again as rows finish.
 */
export function estimateGpuSeconds(models: ModelList, quality: Quality): number {
  for (const model of models.data) {
    const tier = model.tiers.find((t) => t.quality === quality);
    if (tier) return tier.estimate_gpu_seconds;
  }
  throw new ClickvidError(`No model offers quality "${quality}"; cannot check the budget.`, { code: 'budget_unknown' });
}
