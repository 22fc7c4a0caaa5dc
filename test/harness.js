/**
 * Test harness: real parts only. `startRedis` runs a private redis-server on a free
 * port; `startStack` runs the built server and worker as processes against it, the
 * same way `npm start` does (both use scripts/stack.mjs).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
// @ts-expect-error plain ESM helper shared with scripts/start.mjs
import { freePort, ROOT, startRedis as startRedisProc, startService, stopProcess, waitReady } from '../scripts/stack.mjs';
export { ROOT };
export async function startRedis() {
    const dir = mkdtempSync(path.join(tmpdir(), 'cv-redis-'));
    const r = await startRedisProc({ dir });
    return {
        url: r.url,
        port: r.port,
        async stop() {
            await r.stop();
            rmSync(dir, { recursive: true, force: true });
        },
    };
}
export async function startStack(opts = {}) {
    const redis = await startRedis();
    const dataDir = mkdtempSync(path.join(tmpdir(), 'cv-stack-'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const apiKey = `cv_test_${randomBytes(18).toString('base64url')}`;
    const webhookSecret = `whsec_${randomBytes(24).toString('base64')}`;
    const env = {
        CLICKVID_REDIS_URL: redis.url,
        CLICKVID_PORT: String(port),
        CLICKVID_PUBLIC_URL: url,
        CLICKVID_DATA_DIR: dataDir,
        CLICKVID_SIGNING_SECRET: randomBytes(32).toString('base64url'),
        CLICKVID_BOOTSTRAP_API_KEY: apiKey,
        CLICKVID_BOOTSTRAP_WEBHOOK_SECRET: webhookSecret,
        CLICKVID_ALLOW_PRIVATE_WEBHOOKS: 'true',
        CLICKVID_LOG_LEVEL: opts.logs ? 'info' : 'error',
        CLICKVID_ORT_THREADS: '1',
        ...opts.env,
    };
    const stdio = opts.logs ? 'inherit' : 'ignore';
    const server = startService('server', env, { stdio });
    let workers = Array.from({ length: opts.workers ?? 1 }, () => startService('worker', env, { stdio }));
    try {
        await waitReady(url, { timeoutMs: 60_000, procs: [server.proc, ...workers.map((w) => w.proc)] });
    }
    catch (err) {
        await Promise.all([server, ...workers].map((s) => s.stop()));
        await redis.stop();
        throw err;
    }
    return {
        url,
        apiKey,
        webhookSecret,
        redisUrl: redis.url,
        dataDir,
        env,
        async restartWorker(extraEnv = {}) {
            await Promise.all(workers.map((w) => w.stop()));
            workers = [startService('worker', { ...env, ...extraEnv }, { stdio })];
            await waitReady(url, { timeoutMs: 60_000 });
        },
        async stop() {
            await Promise.all([server, ...workers].map((s) => stopProcess(s.proc, 'SIGTERM', 10_000)));
            await redis.stop();
            rmSync(dataDir, { recursive: true, force: true });
        },
    };
}
/** Small JSON-over-HTTP helper for tests that speak plain HTTP, as curl would. */
export async function api(stack, method, route, body, headers = {}) {
    const res = await fetch(`${stack.url}${route}`, {
        method,
        headers: {
            authorization: `Bearer ${stack.apiKey}`,
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...headers,
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let parsed = text;
    try {
        parsed = JSON.parse(text);
    }
    catch {
        /* not JSON */
    }
    return { status: res.status, headers: res.headers, body: parsed };
}
/** Polls a job until it reaches a terminal state. */
export async function waitJob(stack, id, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const { body } = await api(stack, 'GET', `/v1/jobs/${id}`);
        if (['succeeded', 'failed', 'canceled'].includes(body.status))
            return body;
        if (Date.now() > deadline)
            throw new Error(`job ${id} still ${body.status} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
    }
}
//# sourceMappingURL=harness.js.map