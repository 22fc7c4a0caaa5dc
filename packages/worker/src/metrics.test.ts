import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WorkerMetrics } from './metrics.js';

describe('WorkerMetrics', () => {
  it('serves the histograms on /metrics, in a format promtool accepts', async () => {
    const m = new WorkerMetrics({ defaultMetrics: true });
    m.batchSize.observe({ lane: 'draft', variant: 'int8-128' }, 4);
    m.inferenceSeconds.observe({ lane: 'draft', variant: 'int8-128' }, 0.02);
    m.encodeSeconds.observe({ lane: 'draft', warm: 'true' }, 0.03);
    m.queueWaitSeconds.observe({ lane: 'final' }, 0.5);
    const server = await m.serve(0, '127.0.0.1');
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain('clickvid_batch_size_bucket{le="4",lane="draft",variant="int8-128"} 1');
      expect(text).toContain('clickvid_inference_seconds_count{lane="draft",variant="int8-128"} 1');
      expect(text).toContain('clickvid_encode_seconds_count{lane="draft",warm="true"} 1');
      expect(text).toContain('clickvid_queue_wait_seconds_count{lane="final"} 1');
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
      if (existsSync('/usr/bin/promtool')) {
        const out = await new Promise<{ code: number; stderr: string }>((resolve) => {
          const p = execFile('/usr/bin/promtool', ['check', 'metrics'], (err, _o, stderr) => resolve({ code: err ? 1 : 0, stderr }));
          p.stdin!.end(text);
        });
        expect(out.stderr).toBe('');
        expect(out.code).toBe(0);
      }
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
