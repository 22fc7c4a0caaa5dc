import { describe, expect, it } from 'vitest';
import type { ModelList } from '@clickvid/contracts';
import { canonicalJson, estimateGpuSeconds, planRows } from './plan.js';
import type { Manifest } from './manifest.js';

const manifest = (rows: Manifest['rows'], sha256 = 'a'.repeat(64)): Manifest => ({ path: 'm.jsonl', sha256, rows });

describe('batch plan', () => {
  it('derives stable keys from manifest hash, row index and request', () => {
    const m = manifest([{ prompt: 'red' }, { prompt: 'red' }, { prompt: 'blue', seed: 3 }]);
    const a = planRows(m);
    const b = planRows(manifest([{ prompt: 'red' }, { prompt: 'red' }, { seed: 3, prompt: 'blue' }]));
    expect(a.map((r) => r.idempotencyKey)).toEqual(b.map((r) => r.idempotencyKey));
    for (const r of a) expect(r.idempotencyKey).toMatch(/^cvb-[0-9a-f]{48}$/);
    // Same content, other index: another row, another key.
    expect(a[0]!.idempotencyKey).not.toBe(a[1]!.idempotencyKey);
    // Another manifest (other bytes): other keys.
    expect(planRows(manifest(m.rows, 'b'.repeat(64)))[0]!.idempotencyKey).not.toBe(a[0]!.idempotencyKey);
    // A changed default quality changes the request, hence the key (the server would refuse the old key with a new body).
    expect(planRows(m, { quality: 'final' })[0]!.idempotencyKey).not.toBe(a[0]!.idempotencyKey);
  });

  it('lets a row\'s quality win over the default and builds the request', () => {
    const [row] = planRows(manifest([{ prompt: 'p', quality: 'standard', seed: 1, metadata: { campaign: 'c' } }]), { quality: 'final' });
    expect(row!.request).toEqual({ prompt: 'p', quality: 'standard', seed: 1, metadata: { campaign: 'c' } });
  });

  it('names files safely and uniquely', () => {
    const rows = planRows(manifest([{ prompt: 'a', name: 'Intro Shot/1' }, { prompt: 'b' }, { prompt: 'c', name: 'Intro Shot/1' }, { prompt: 'd', name: 'x.mp4' }]));
    expect(rows.map((r) => r.file)).toEqual(['Intro-Shot-1.mp4', 'row-0002.mp4', 'Intro-Shot-1-3.mp4', 'x.mp4']);
  });

  it('serialises canonically', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: undefined } })).toBe('{"a":{"d":[1,{"e":3,"f":2}]},"b":1}');
  });

  it("takes the tier's published estimate, the figure the server puts on each job", () => {
    const tier = (quality: 'draft' | 'final', ms: Record<string, number>) => ({
      quality, variant: 'v', precision: 'int8', width: 64, height: 64, fps: 8, duration_s: 1, max_duration_s: 4, max_batch: 8,
      ms_per_video: ms, credits_per_gpu_second: 1, estimate_gpu_seconds: ((ms['1'] ?? 0) + 10.8192) / 1000,
    });
    const models: ModelList = {
      object: 'list',
      data: [{ id: 'm', object: 'model', version: '1', channel: 'stable', traffic_share: 1, description: '', variants: [], vocabulary: [], aspect_ratios: [], tiers: [tier('draft', { '1': 8, '8': 5 }), tier('final', { '1': 45, '4': 21 })] }],
    };
    expect(estimateGpuSeconds(models, 'draft')).toBeCloseTo((8 + 10.8192) / 1000, 6);
    expect(estimateGpuSeconds(models, 'final')).toBeCloseTo((45 + 10.8192) / 1000, 6);
    expect(() => estimateGpuSeconds(models, 'standard')).toThrow(expect.objectContaining({ code: 'budget_unknown' }));
  });
});
