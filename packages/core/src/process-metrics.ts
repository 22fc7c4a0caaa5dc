import { collectDefaultMetrics, Counter, type Registry } from 'prom-client';

/**
 * prom-client's default process and Node.js metrics under `prefix`, minus the gauges it names
 * with `_total` (`nodejs_active_handles_total`, `…_requests_total`, `…_resources_total`).
 * Prometheus keeps that suffix for counters, and `promtool check metrics` rejects a gauge
 * that carries it. Nothing is lost: each is the sum of a per-type gauge prom-client also
 * exports (`sum(<prefix>nodejs_active_handles)`), and no rule or dashboard in deploy/ reads them.
 */
export function collectProcessMetrics(registry: Registry, prefix: string): void {
  collectDefaultMetrics({ register: registry, prefix });
  for (const metric of registry.getMetricsAsArray()) {
    if (metric.name.startsWith(prefix) && metric.name.endsWith('_total') && !(metric instanceof Counter)) {
      registry.removeSingleMetric(metric.name);
    }
  }
}
