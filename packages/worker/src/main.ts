/**
 * `node packages/worker/dist/main.js`: loads config, model and storage, starts
 * the lanes' consumers and drains them on SIGTERM/SIGINT.
 */
import { createLogger, createStorage, createTracer, loadConfigOrExit, ModelVersions } from '@clickvid/core';
import { startWorker } from './worker.js';

/** Time after the drain deadline for putting the jobs still in flight back in their queue. */
const SHUTDOWN_MARGIN_MS = 3000;

async function main(): Promise<void> {
  const config = loadConfigOrExit('worker');
  const logger = createLogger(config, 'worker');
  const models = ModelVersions.load(config.model.dir, config.model.name);
  const registry = models.stable;
  const storage = createStorage(config);
  const tracer = await createTracer(config, 'clickvid-worker');
  const worker = await startWorker({ config, registry, models, storage, logger, tracer });
  logger.info({ worker: worker.id, model: `${registry.id}@${registry.version}`, canary: models.canary ? `${models.canary.registry.version} (${models.canary.share})` : null, metricsPort: config.workerMetricsPort ?? null }, `worker ready lanes=${worker.lanes.join(',')}`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second signal means "now": in-flight jobs come back to another worker through BullMQ's stalled check.
      logger.warn({ signal }, 'second signal, exiting without draining');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, deadlineMs: config.drainTimeoutMs }, 'draining: no new jobs, finishing the ones in flight');
    // Draining and handing jobs back both need Redis; without it BullMQ's close waits forever.
    // Past the deadline and a margin for the hand-back, exit anyway: jobs still held come back
    // to another worker when their locks expire (BullMQ's stalled check).
    setTimeout(() => {
      logger.error({ deadlineMs: config.drainTimeoutMs, marginMs: SHUTDOWN_MARGIN_MS }, 'shutdown did not finish (is Redis reachable?): exiting; held jobs return through the stalled check');
      process.exit(1);
    }, config.drainTimeoutMs + SHUTDOWN_MARGIN_MS);
    worker.close().then(
      async ({ requeued }) => {
        await storage.close?.();
        logger.info({ requeued }, 'worker stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  // pino may not exist yet (bad config, missing model): plain stderr, one line per cause.
  process.stderr.write(`worker failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
