import { createServer, type Server } from 'node:http';
import type { Lane } from '@clickvid/contracts';
import { collectProcessMetrics, HISTOGRAMS, type ClusterMetrics, type HistogramName, type Redis } from '@clickvid/core';
import type { ChainableCommander } from 'ioredis';
import { Counter, Histogram, Registry } from 'prom-client';

/** Where observations also go: the cluster-wide view in Redis, written through `redis`. */
export interface ClusterSink {
  metrics: ClusterMetrics;
  redis: Redis;
}

/**
 * The worker's Prometheus metrics, on a registry of its own (tests create many).
 * With a {@link ClusterSink}, every observation also goes to the cluster-wide view
 * in Redis that the API server's /metrics renders, so one scrape sees all workers.
 * The observations of one event-loop turn (a batch's jobs finish together) share one
 * pipeline: one write, not one per observation.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly batchSize = this.clusterHistogram('clickvid_batch_size', ['lane', 'variant', 'model_version']);
  readonly inferenceSeconds = this.clusterHistogram('clickvid_inference_seconds', ['lane', 'variant', 'model_version']);
  readonly encodeSeconds = this.clusterHistogram('clickvid_encode_seconds', ['lane', 'warm']);
  readonly queueWaitSeconds = this.clusterHistogram('clickvid_queue_wait_seconds', ['lane']);
  readonly batchWaitSeconds = new Histogram({
    name: 'clickvid_batch_wait_seconds',
    help: 'Seconds from a job reaching the engine to its first unit running.',
    labelNames: ['lane'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly jobsTotal = new Counter({
    name: 'clickvid_worker_jobs_total',
    help: 'Jobs the worker finished, by outcome (succeeded, failed, retried, canceled, skipped, cache_hit).',
    labelNames: ['lane', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly falseStalls = new Counter({
    name: 'clickvid_worker_false_stalls_total',
    help: "Attempts of this worker that found their job redelivered while they lived (lock lost).",
    labelNames: ['lane'] as const,
    registers: [this.registry],
  });

  readonly #sink: ClusterSink | undefined;
  #turn: ChainableCommander | null = null;

  /** A histogram the cluster view also has: its help and buckets come from core's HISTOGRAMS. */
  private clusterHistogram<L extends string>(name: HistogramName, labelNames: readonly L[]): Histogram<L> {
    const { help, buckets } = HISTOGRAMS[name];
    return new Histogram({ name, help, labelNames, buckets: [...buckets], registers: [this.registry] });
  }

  constructor(options: { defaultMetrics?: boolean; cluster?: ClusterSink } = {}) {
    if (options.defaultMetrics) collectProcessMetrics(this.registry, 'clickvid_worker_');
    this.#sink = options.cluster;
  }

  /** Runs `record` against this turn's pipeline to the cluster view, if there is one. */
  #cluster(record: (c: ClusterMetrics, tx: ChainableCommander) => void): void {
    const sink = this.#sink;
    if (!sink) return;
    if (this.#turn === null) {
      const tx = sink.redis.pipeline();
      this.#turn = tx;
      setImmediate(() => {
        this.#turn = null;
        // Metrics are best effort: a lost write must not fail a job.
        tx.exec().catch(() => undefined);
      });
    }
    record(sink.metrics, this.#turn);
  }

  /** One session.run of `size` videos of a model version's variant. */
  batch(lane: Lane, variant: string, modelVersion: string, size: number, seconds: number): void {
    const labels = { lane, variant, model_version: modelVersion };
    this.batchSize.observe(labels, size);
    this.inferenceSeconds.observe(labels, seconds);
    this.#cluster((c, tx) => {
      c.observe('clickvid_batch_size', labels, size, tx);
      c.observe('clickvid_inference_seconds', labels, seconds, tx);
    });
  }

  queueWait(lane: Lane, seconds: number): void {
    this.queueWaitSeconds.observe({ lane }, seconds);
    this.#cluster((c, tx) => c.observe('clickvid_queue_wait_seconds', { lane }, seconds, tx));
  }

  encode(lane: Lane, warm: boolean, seconds: number): void {
    this.encodeSeconds.observe({ lane, warm: String(warm) }, seconds);
    this.#cluster((c, tx) => c.observe('clickvid_encode_seconds', { lane }, seconds, tx));
  }

  /**
   * This live attempt found its job redelivered to another (its lock was lost: an event-loop
   * stall, a Redis failover). Counted apart from redeliveries (the START script's counter), so
   * worker deaths = clickvid_redeliveries_total - clickvid_false_stalls_total.
   */
  falseStall(lane: Lane): void {
    this.falseStalls.inc({ lane });
    this.#cluster((c, tx) => c.inc('clickvid_false_stalls_total', { lane }, 1, tx));
  }

  /** Serves GET /metrics on `port` (0 = any free port). Resolves with the server once listening. */
  serve(port: number, host = '0.0.0.0'): Promise<Server> {
    const server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve(server));
    });
  }
}
