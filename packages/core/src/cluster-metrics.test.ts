import { describe, expect, it } from 'vitest';
import { ClusterMetrics } from './cluster-metrics.js';
import { jobRedis } from './job.testkit.js';

const t = jobRedis();

describe('ClusterMetrics', () => {
  it('renders a label value that holds a "|" (a pipeline unit\'s variant) as one well-formed series', async () => {
    const m = new ClusterMetrics(t.redis);
    m.observe('clickvid_batch_size', { lane: 'draft', variant: 'clickvid-shapes@3.0.0|int8-128', model_version: '3.0.0' }, 2);
    m.inc('clickvid_jobs_total', { quality: 'draft', model_version: '3.0.0' });
    await new Promise((r) => setTimeout(r, 50));
    const text = await m.render();
    expect(text).toContain('clickvid_batch_size_count{lane="draft",model_version="3.0.0",variant="clickvid-shapes@3.0.0|int8-128"} 1');
    expect(text).toContain('clickvid_batch_size_bucket{lane="draft",model_version="3.0.0",variant="clickvid-shapes@3.0.0|int8-128",le="2"} 1');
    expect(text).toContain('clickvid_jobs_total{model_version="3.0.0",quality="draft"} 1');
  });
});
