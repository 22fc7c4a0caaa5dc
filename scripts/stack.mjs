// Starts the pieces of a local clickvid stack as processes: a private redis-server,
// the API server and workers. Shared by `npm start` (scripts/start.mjs) and the test
// harness (test/harness.ts), so what the tests run is what a user runs.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A TCP port nobody is listening on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** True when something accepts connections on the port. */
export function portInUse(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

function redisPing(port) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    let buf = '';
    s.setTimeout(500, () => { s.destroy(); resolve(false); });
    s.once('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => { buf += d; if (buf.includes('\r\n')) { s.destroy(); resolve(buf.startsWith('+PONG')); } });
    s.once('error', () => resolve(false));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A private redis-server on a free port. With `persist`, data and an AOF (fsync every
 * second: a Redis process death loses nothing acknowledged, a host crash up to ~1 s) live
 * in `dir`. Memory is capped with `noeviction` (BullMQ needs it): at the cap writes fail
 * loudly instead of Redis growing until the host kills it.
 */
export async function startRedis({ dir, persist = false, log = 'ignore', port: fixedPort, maxmemory = '1gb' }) {
  mkdirSync(dir, { recursive: true });
  const port = fixedPort ?? (await freePort());
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--maxmemory', maxmemory, '--maxmemory-policy', 'noeviction',
    '--save', '', '--appendonly', persist ? 'yes' : 'no', '--appendfsync', 'everysec', '--protected-mode', 'yes',
  ];
  const proc = spawn('redis-server', args, { stdio: ['ignore', log, log] });
  let exited = null;
  proc.once('exit', (code) => { exited = code; });
  for (let i = 0; i < 200; i++) {
    if (exited !== null) throw new Error(`redis-server exited with code ${exited}`);
    if (await redisPing(port)) break;
    await sleep(25);
    if (i === 199) throw new Error('redis-server did not answer PING within 5 s');
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    proc,
    stop: () => stopProcess(proc, 'SIGTERM', 5000),
  };
}

/** Runs a built package entry (packages/<pkg>/dist/main.js) as a child process. */
export function startService(pkg, env, { stdio = 'inherit' } = {}) {
  const entry = path.join(ROOT, 'packages', pkg, 'dist', 'main.js');
  const proc = spawn(process.execPath, [entry], { env: { ...process.env, ...env }, stdio: ['ignore', stdio, stdio] });
  return { proc, stop: () => stopProcess(proc, 'SIGTERM', 10_000) };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export function stopProcess(proc, signal = 'SIGTERM', graceMs = 10_000) {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    proc.once('exit', () => { clearTimeout(t); resolve(); });
    proc.kill(signal);
  });
}

/** Polls /readyz until the API answers ready (Redis up and a worker alive). */
export async function waitReady(url, { timeoutMs = 60_000, procs = [] } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    for (const p of procs) {
      if (p.exitCode !== null) throw new Error(`a stack process exited early (code ${p.exitCode})`);
    }
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
      last = await res.text();
      if (res.ok) return;
    } catch (err) {
      last = err.message;
    }
    await sleep(100);
  }
  throw new Error(`the stack at ${url} was not ready within ${timeoutMs / 1000} s: ${last}`);
}
