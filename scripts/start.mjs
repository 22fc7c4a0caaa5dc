// `npm start`: the whole local stack on embedded defaults. A private redis-server
// (data and AOF under .clickvid/redis), the API server, one worker and local storage
// under .clickvid/. Writes .clickvid/dev.json for the CLI and prints a ready command.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setup } from './setup.mjs';
import { portInUse, ROOT, startRedis, startService, stopProcess, waitReady, freePort } from './stack.mjs';

const t0 = Date.now();
const env = process.env;
const log = (msg) => process.stdout.write(`${msg}\n`);

try {
  setup({ withBuild: true });
} catch (err) {
  process.stderr.write(`clickvid: ${err.message}\n`);
  process.exit(1);
}

const dataDir = path.resolve(env.CLICKVID_DATA_DIR ?? path.join(ROOT, '.clickvid'));
mkdirSync(dataDir, { recursive: true });

// Secrets persist across restarts so the API key in dev.json and signed URLs keep working.
const secretsFile = path.join(dataDir, 'secrets.json');
const secrets = existsSync(secretsFile)
  ? JSON.parse(readFileSync(secretsFile, 'utf8'))
  : {
      apiKey: `cv_dev_${randomBytes(24).toString('base64url')}`,
      signingSecret: randomBytes(32).toString('base64url'),
      webhookSecret: `whsec_${randomBytes(24).toString('base64')}`,
    };
// The admin key (for /v1/admin and `clickvid admin`) stays in this file and dev.json; the
// server is given only its sha256. Checkouts from before admin keys get one now.
secrets.adminKey ??= `cv_admin_${randomBytes(32).toString('base64url')}`;
writeFileSync(secretsFile, JSON.stringify(secrets, null, 2), { mode: 0o600 });

const children = [];
let redis = null;
let shuttingDown = false;

/**
 * Runs a service and restarts it when it dies (a crash, the worker's watchdog, an OOM kill)
 * instead of stopping the stack: its jobs come back through BullMQ's stalled check and run
 * again. Restarts back off from 0.5 s to 10 s while a process keeps dying within 30 s of
 * its start; a config error (exit 78) is not retried.
 */
function supervise(pkg, stackEnv) {
  const handle = { proc: null, restarts: 0 };
  let backoffMs = 500;
  const launch = () => {
    const startedAt = Date.now();
    handle.proc = startService(pkg, stackEnv).proc;
    handle.proc.once('exit', (code, signal) => {
      if (shuttingDown) return;
      if (code === 78) {
        process.stderr.write(`clickvid: the ${pkg} refused its configuration; stopping the stack.\n`);
        void shutdown(1);
        return;
      }
      backoffMs = Date.now() - startedAt > 30_000 ? 500 : Math.min(backoffMs * 2, 10_000);
      handle.restarts++;
      process.stderr.write(`clickvid: the ${pkg} exited (${code ?? signal}); restarting it in ${backoffMs / 1000} s (restart ${handle.restarts}).\n`);
      setTimeout(() => shuttingDown || launch(), backoffMs);
    });
  };
  launch();
  return handle;
}

async function shutdown(code) {
  if (shuttingDown) return;
  shuttingDown = true;
  log('\nclickvid: stopping …');
  // The worker drains within CLICKVID_DRAIN_TIMEOUT_MS (8 s) and requeues the rest, inside this 10 s grace.
  await Promise.all(children.map((c) => c.proc && stopProcess(c.proc, 'SIGTERM', 10_000)));
  if (redis) await redis.stop();
  log('clickvid: stopped.');
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

try {
  let redisUrl = env.CLICKVID_REDIS_URL;
  if (!redisUrl) {
    redis = await startRedis({ dir: path.join(dataDir, 'redis'), persist: true });
    redisUrl = redis.url;
  }
  const port = env.CLICKVID_PORT ? Number(env.CLICKVID_PORT) : (await portInUse(8080)) ? await freePort() : 8080;
  const url = (env.CLICKVID_PUBLIC_URL ?? `http://127.0.0.1:${port}`).replace(/\/+$/, '');
  const stackEnv = {
    CLICKVID_REDIS_URL: redisUrl,
    CLICKVID_PORT: String(port),
    CLICKVID_PUBLIC_URL: url,
    CLICKVID_DATA_DIR: dataDir,
    CLICKVID_SIGNING_SECRET: env.CLICKVID_SIGNING_SECRET ?? secrets.signingSecret,
    CLICKVID_BOOTSTRAP_API_KEY: secrets.apiKey,
    CLICKVID_BOOTSTRAP_WEBHOOK_SECRET: secrets.webhookSecret,
    CLICKVID_ADMIN_KEY_SHA256: createHash('sha256').update(secrets.adminKey).digest('hex'),
    // Local development: webhooks to localhost receivers are fine.
    CLICKVID_ALLOW_PRIVATE_WEBHOOKS: env.CLICKVID_ALLOW_PRIVATE_WEBHOOKS ?? 'true',
    CLICKVID_LOG_LEVEL: env.CLICKVID_LOG_LEVEL ?? 'warn',
  };
  for (const pkg of ['server', 'worker']) children.push(supervise(pkg, stackEnv));
  await waitReady(url, { timeoutMs: 90_000 });

  writeFileSync(
    path.join(dataDir, 'dev.json'),
    JSON.stringify({ url, apiKey: secrets.apiKey, adminKey: secrets.adminKey, webhookSecret: secrets.webhookSecret }, null, 2) + '\n',
    { mode: 0o600 },
  );
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  log(`
clickvid is running (ready in ${secs} s)

  Studio    ${url}/#key=${secrets.apiKey}
            (open it in a browser: the key rides in the fragment, which the browser never sends)
  API       ${url}   (OpenAPI: ${url}/openapi.json, metrics: ${url}/metrics)
  API key   ${secrets.apiKey}   (team ${env.CLICKVID_BOOTSTRAP_TEAM ?? 'dev'})
  Admin key ${secrets.adminKey}   (/v1/admin, \`npx clickvid admin teams list\`)
  Redis     ${redisUrl}${redis ? '  (private, AOF fsync every second in .clickvid/redis, maxmemory 1gb noeviction)' : ''}
  Storage   ${path.join(dataDir, 'storage')}
  Config    ${path.join(dataDir, 'dev.json')} (the CLI finds it from this directory and below)

Try it:
  npx clickvid generate "two red circles moving right on a blue background" --wait --out clip.mp4

  curl -s ${url}/v1/generate -H "Authorization: Bearer ${secrets.apiKey}" \\
       -H "Content-Type: application/json" -H "Idempotency-Key: $(date +%s)" \\
       -d '{"prompt":"a yellow triangle spinning on a black background"}'

A worker or server that dies is restarted. Ctrl-C stops everything.`);
} catch (err) {
  process.stderr.write(`clickvid: ${err.message}\n`);
  await shutdown(1);
}
