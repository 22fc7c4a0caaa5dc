import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { promtool } from '../../../test/promtool.js';
import { WorkerMetrics } from './metrics.js';

describe('WorkerMetrics', () => {
  it('serves the histograms on /metrics, in a format promtool accepts', async () => {
    const m = new WorkerMetrics({ defaultMetrics: true });
    m.batchSize.observe({ lane: 'draft', variant: 'int8-128', model_version: '2.0.0' }, 4);
    m.inferenceSeconds.observe({ lane: 'draft', variant: 'int8-128', model_version: '2.0.0' }, 0.02);
    m.encodeSeconds.observe({ lane: 'draft', warm: 'true' }, 0.03);
    m.queueWaitSeconds.observe({ lane: 'final' }, 0.5);
    const server = await m.serve(0, '127.0.0.1');
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain('clickvid_batch_size_bucket{le="4",lane="draft",variant="int8-128",model_version="2.0.0"} 1');
      expect(text).toContain('clickvid_inference_seconds_count{lane="draft",variant="int8-128",model_version="2.0.0"} 1');
      expect(text).toContain('clickvid_encode_seconds_count{lane="draft",warm="true"} 1');
      expect(text).toContain('clickvid_queue_wait_seconds_count{lane="final"} 1');
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
      // The default process metrics are there, minus prom-client's gauges named like counters.
      expect(text).toContain('clickvid_worker_process_cpu_seconds_total');
      expect(text).toContain('clickvid_worker_nodejs_active_handles');
      expect(await promtool(['check', 'metrics'], text)).toEqual({ code: 0, output: '' });
      expect(text).not.toMatch(/^clickvid_worker_nodejs_active_\w+_total/m);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
