import { hostname } from 'node:os';
import { createLogger, createRedis, loadConfigOrExit, WebhookOutbox } from '@clickvid/core';
import { buildApp } from './app.js';
import { DeadlineSweeper } from './deadline-sweeper.js';
import { createDeps } from './deps.js';
import { startWebhookSender } from './webhook-sender.js';

async function main(): Promise<void> {
  const config = loadConfigOrExit('server');
  const logger = createLogger(config, 'server');
  if (config.signingSecretGenerated) logger.warn('CLICKVID_SIGNING_SECRET is unset: signed asset URLs will not survive a restart or work across replicas');
  const deps = await createDeps(config);
  if (config.bootstrap.apiKey) {
    await deps.teams.ensureTeam(config.bootstrap.team, { webhookSecret: config.bootstrap.webhookSecret });
    // Registers the key once; a key that was revoked stays revoked (its tombstone wins).
    await deps.teams.addApiKey(config.bootstrap.team, config.bootstrap.apiKey, 'bootstrap');
  }
  if (!config.adminKeySha256.length) logger.info('CLICKVID_ADMIN_KEY_SHA256 is unset: the admin API (/v1/admin) is off');
  const app = await buildApp(deps, logger);
  const senderConn = createRedis(config.redisUrl);
  const sender = startWebhookSender({ connection: senderConn, teams: deps.teams, targets: deps.webhookTargets, logger, tracer: deps.tracer, deliveries: deps.deliveries });
  // Cancels end jobs here, so the server drains the webhook outbox too (one consumer group with the workers).
  const outbox = new WebhookOutbox(createRedis(config.redisUrl), deps.queues.webhooks, `server-${hostname()}-${process.pid}`, logger);
  outbox.start();
  // Deadlines are the server's to keep: a final may wait where no final worker exists.
  const deadlines = new DeadlineSweeper(deps.lifecycle, deps.queues, logger);
  deadlines.start();
  await app.listen({ host: config.host, port: config.port });
  logger.info({ url: config.publicUrl, model: `${deps.registry.id}@${deps.registry.version}` }, 'server ready');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    await app.close();
    await deadlines.close();
    await outbox.close();
    await sender.close();
    senderConn.disconnect();
    await deps.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  console.error('clickvid server failed to start:', err);
  process.exit(1);
});
