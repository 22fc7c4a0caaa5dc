import { ClusterMetrics, collectProcessMetrics, type JobStore, type Redis } from '@clickvid/core';
import { Gauge, Histogram, Registry } from 'prom-client';

/**
 * /metrics: this process's own metrics from prom-client (HTTP latency, event loop,
 * queue depth) followed by the cluster-wide job metrics kept in Redis.
 */
export function createMetrics(redis: Redis, store: JobStore) {
  const registry = new Registry();
  collectProcessMetrics(registry, 'clickvid_server_');
  const http = new Histogram({
    name: 'clickvid_http_request_duration_seconds',
    help: 'API request latency.',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  new Gauge({
    name: 'clickvid_queue_depth',
    help: 'Jobs queued per lane (what KEDA scales on).',
    labelNames: ['lane'],
    registers: [registry],
    async collect() {
      for (const lane of ['draft', 'final'] as const) this.set({ lane }, await store.queueDepth(lane));
    },
  });
  const cluster = new ClusterMetrics(redis);
  return {
    http,
    cluster,
    contentType: registry.contentType,
    async render(): Promise<string> {
      return (await registry.metrics()) + (await cluster.render());
    },
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
