import { ClusterMetrics, collectProcessMetrics, type JobStore, type Redis } from '@clickvid/core';
import { Gauge, Histogram, Registry } from 'prom-client';

/**
 * Two expositions, so that a sum over server replicas is right:
 * - `/metrics`: this process's own metrics (HTTP latency, event loop, memory), one
 *   series per replica;
 * - `/metrics/cluster`: what every replica would report alike — queue depth and the
 *   job metrics kept in Redis — scraped once, through the Service, not per pod.
 */
export function createMetrics(redis: Redis, store: JobStore) {
  const registry = new Registry();
  const clusterRegistry = new Registry();
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
    registers: [clusterRegistry],
    async collect() {
      for (const lane of ['draft', 'final'] as const) this.set({ lane }, await store.queueDepth(lane));
    },
  });
  const cluster = new ClusterMetrics(redis);
  return {
    http,
    cluster,
    contentType: registry.contentType,
    /** This process's own series. */
    render(): Promise<string> {
      return registry.metrics();
    },
    /** The cluster-wide series: the same from every replica. */
    async renderCluster(): Promise<string> {
      return (await clusterRegistry.metrics()) + (await cluster.render());
    },
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
