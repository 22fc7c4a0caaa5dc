import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { promtool } from '../../test/promtool.js';
import { shippedQueries } from './monitoring.js';
import { exposed, references, unknownIn } from './queries.js';

const file = (f: string) => new URL(f, import.meta.url).pathname;

describe('monitoring', () => {
  it('alert rules pass their promtool unit tests: burn-rate alerts fire at 14× burn and not at 1×, cost ignores replica count', async () => {
    const r = await promtool(['test', 'rules', file('rules.test.yaml'), file('cost.test.yaml')]);
    expect(r.code, r.output).toBe(0);
  });

  it('the scrape config and its rules are valid for promtool', async () => {
    const r = await promtool(['check', 'config', file('prometheus.yaml')]);
    expect(r.code, r.output).toBe(0);
  });

  it('the dashboard has a query in every panel, unique panel ids, and no panel outside the grid', () => {
    const dash = JSON.parse(readFileSync(new URL('dashboard.json', import.meta.url), 'utf8'));
    const ids = dash.panels.map((p: { id: number }) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dash.panels) {
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
    }
  });

  it('finds the series and labels a query uses, and reports the ones an exposition lacks', () => {
    const q = 'sum by (lane) (max without (instance, pod) (rate(clickvid_batch_size_sum{lane="draft",variant=~"int8.*"}[5m])))';
    expect(references(q)).toEqual({ series: [{ metric: 'clickvid_batch_size_sum', labels: ['lane', 'variant'] }], grouping: ['lane', 'instance', 'pod'] });
    const live = exposed('# TYPE x counter\nclickvid_batch_size_sum{lane="draft",variant="int8-128"} 3\nclickvid_jobs_total{quality="draft"} 1\n');
    expect(unknownIn(q, live)).toEqual([]);
    expect(unknownIn('rate(clickvid_jobs_total{status="failed"}[5m])', live)).toEqual(['clickvid_jobs_total has no label status']);
    expect(unknownIn('sum by (campaign) (clickvid_jobs_total)', live)).toHaveLength(1);
    expect(unknownIn('clickvid_nope_total', live)).toEqual(['no series clickvid_nope_total']);
  });

  it('collects every shipped query: dashboard, rules and KEDA', () => {
    const where = shippedQueries().map((q) => q.where);
    expect(where.some((w) => w.startsWith('dashboard'))).toBe(true);
    expect(where.some((w) => w.startsWith('rule ClickvidCostSpike'))).toBe(true);
    expect(where.some((w) => w.startsWith('KEDA clickvid-worker-draft'))).toBe(true);
  });
});
