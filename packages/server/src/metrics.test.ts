import { COUNTERS, HISTOGRAMS, type CounterName, type HistogramName } from '@clickvid/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promtool } from '../../../test/promtool.js';
import { testApp } from './internal/app.testkit.js';

let t: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => t.close());

describe('GET /metrics', () => {
  it('serves process and HTTP metrics on /metrics, queue and cluster metrics on /metrics/cluster, both in a format promtool accepts', async () => {
    // Every cluster-wide family gets a sample, as workers would write them, so each one is rendered.
    const tx = t.deps.redis.pipeline();
    for (const name of Object.keys(HISTOGRAMS) as HistogramName[]) t.deps.metrics.cluster.observe(name, { lane: 'draft', quality: 'draft' }, 0.02, tx);
    for (const name of Object.keys(COUNTERS) as CounterName[]) t.deps.metrics.cluster.inc(name, { quality: 'draft', status: 'succeeded' }, 1, tx);
    await tx.exec();
    expect((await t.app.inject({ url: '/v1/models', headers: t.auth(t.keyA) })).statusCode).toBe(200);

    const res = await t.app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    const text = res.body;
    expect(text).toContain('clickvid_server_process_cpu_seconds_total');
    expect(text).toContain('clickvid_server_nodejs_active_handles');
    expect(text).toMatch(/^clickvid_http_request_duration_seconds_count\{[^}]*route="\/v1\/models"[^}]*\} 1$/m);
    expect(await promtool(['check', 'metrics'], text)).toEqual({ code: 0, output: '' });
    expect(text).not.toMatch(/^clickvid_server_nodejs_active_\w+_total/m);

    // The cluster-wide series, the same from every replica, on their own path (scraped once).
    const cluster = await t.app.inject({ url: '/metrics/cluster' });
    expect(cluster.statusCode).toBe(200);
    expect(cluster.body).toContain('clickvid_queue_depth{lane="draft"} 0');
    for (const name of [...Object.keys(HISTOGRAMS), ...Object.keys(COUNTERS)]) {
      expect(cluster.body).toContain(`# TYPE ${name} `);
      expect(text).not.toContain(`# TYPE ${name} `);
    }
    expect(await promtool(['check', 'metrics'], cluster.body)).toEqual({ code: 0, output: '' });
  });
});
