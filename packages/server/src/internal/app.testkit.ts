import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Job } from '@clickvid/contracts';
import { loadConfig } from '@clickvid/core';
import { pino } from 'pino';
import { startRedis } from '../../../../test/harness.js';
import { buildApp } from '../app.js';
import { createDeps } from '../deps.js';

/**
 * A real app on a real redis-server and the shipped model, for inject() tests. Two teams.
 * Pass `redisUrl` to use a redis-server the test controls (and stops) itself.
 */
export async function testApp(env: Record<string, string> = {}, opts: { redisUrl?: string } = {}) {
  const redis = opts.redisUrl ? { url: opts.redisUrl, stop: async () => undefined } : await startRedis();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'cv-app-'));
  const config = loadConfig({
    CLICKVID_REDIS_URL: redis.url,
    CLICKVID_DATA_DIR: dataDir,
    CLICKVID_PUBLIC_URL: 'http://api.test',
    CLICKVID_SIGNING_SECRET: randomBytes(32).toString('base64url'),
    CLICKVID_LOG_LEVEL: 'silent',
    ...env,
  });
  const deps = await createDeps(config);
  const app = await buildApp(deps, pino({ level: 'silent' }));
  await deps.teams.ensureTeam('alpha');
  await deps.teams.ensureTeam('beta');
  const keyA = await deps.teams.addApiKey('alpha');
  const keyB = await deps.teams.addApiKey('beta');
  return {
    app,
    deps,
    config,
    keyA,
    keyB,
    auth: (key: string) => ({ authorization: `Bearer ${key}` }),
    async close() {
      await app.close();
      await deps.close();
      await redis.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type ListeningTestApp = Awaited<ReturnType<typeof listeningTestApp>>;

/**
 * A {@link testApp} on a real socket, for event streams (`inject` waits for a response to end).
 * Streams opened with `stream()`'s controller are aborted by `abortStreams()`, to call after
 * each test: an open stream would hold `close()`.
 */
export async function listeningTestApp(env: Record<string, string> = {}) {
  const t = await testApp(env);
  const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  const opened: AbortController[] = [];
  return {
    ...t,
    base,
    stream(): AbortController {
      const ctl = new AbortController();
      opened.push(ctl);
      return ctl;
    },
    abortStreams: () => opened.splice(0).forEach((c) => c.abort()),
    /** A queued draft of the key's team. */
    submit: async (key: string) =>
      Job.parse((await t.app.inject({ method: 'POST', url: '/v1/generate', headers: t.auth(key), payload: { prompt: 'a red circle moving right' } })).json()),
  };
}
