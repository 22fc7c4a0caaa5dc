/**
 * Test helpers (used by *.test.ts only; nothing in the worker's runtime imports this).
 * A real redis-server, not a mock, and ffprobe to check what the encoder wrote.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createRedis, JobLifecycle, JobStore, loadConfig, ModelRegistry, REPO_ROOT } from '@clickvid/core';
import { Redis } from 'ioredis';

const run = promisify(execFile);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export interface TestRedis {
  url: string;
  stop(): Promise<void>;
}

/**
 * The harness's Redis when it provides one (CLICKVID_TEST_REDIS_URL, or the URL the caller got
 * from vitest's `inject('redisUrl')`), else a private redis-server on a free port, no persistence.
 */
export async function testRedis(provided?: string): Promise<TestRedis> {
  const url = provided ?? process.env['CLICKVID_TEST_REDIS_URL'];
  if (url) return { url, stop: async () => undefined };
  return startRedisServer();
}

export type WorkerBed = Awaited<ReturnType<typeof workerBed>>;

/**
 * What a worker suite runs on: Redis ({@link testRedis}), a data dir, the config serving `model`,
 * and the stores over them. `close()` undoes all of it; a suite closes its workers and queues first.
 */
export async function workerBed(model: { dir: string; name: string }, providedRedis?: string) {
  const redisServer = await testRedis(providedRedis);
  const redis = createRedis(redisServer.url);
  const dataDir = mkdtempSync(join(tmpdir(), 'clickvid-worker-test-'));
  const config = loadConfig({
    CLICKVID_REDIS_URL: redisServer.url, CLICKVID_DATA_DIR: dataDir, CLICKVID_MODELS_DIR: model.dir, CLICKVID_MODEL: model.name,
    CLICKVID_FFMPEG: '/usr/bin/ffmpeg', CLICKVID_LOG_LEVEL: 'silent',
  });
  return {
    redisUrl: redisServer.url,
    redis,
    config,
    registry: ModelRegistry.load(model.dir, model.name),
    store: new JobStore(redis),
    lifecycle: new JobLifecycle(redis, config.retention),
    async close() {
      redis.disconnect();
      await redisServer.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function startRedisServer(bin = '/usr/bin/redis-server'): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'clickvid-redis-'));
  const child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--maxmemory-policy', 'noeviction'], {
    stdio: 'ignore',
  });
  const url = `redis://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') {
        probe.disconnect();
        break;
      }
    } catch {
      probe.disconnect();
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not answer PING on ${url}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Probe {
  codec: string;
  pixFmt: string;
  width: number;
  height: number;
  frames: number;
  fps: number;
}

/** ffprobe of an MP4 given as bytes: codec, pixel format, size, decoded frame count, frame rate. */
export async function ffprobe(video: Buffer, bin = '/usr/bin/ffprobe'): Promise<Probe> {
  const dir = mkdtempSync(join(tmpdir(), 'clickvid-probe-'));
  try {
    const file = join(dir, 'v.mp4');
    writeFileSync(file, video);
    const { stdout } = await run(bin, [
      '-v', 'error', '-select_streams', 'v:0', '-count_frames',
      '-show_entries', 'stream=codec_name,pix_fmt,width,height,nb_read_frames,r_frame_rate', '-of', 'json', file,
    ]);
    const s = (JSON.parse(stdout) as { streams: Record<string, string | number>[] }).streams[0]!;
    const [num, den] = String(s['r_frame_rate']).split('/').map(Number);
    return {
      codec: String(s['codec_name']),
      pixFmt: String(s['pix_fmt']),
      width: Number(s['width']),
      height: Number(s['height']),
      frames: Number(s['nb_read_frames']),
      fps: num! / (den || 1),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The shipped model (models/clickvid-shapes), or the one named by CLICKVID_TEST_MODELS_DIR.
 * Throws naming what is missing: a suite that needs the model fails without it, never skips.
 */
export function testModel(): { dir: string; name: string } {
  const name = 'clickvid-shapes';
  const dir = process.env['CLICKVID_TEST_MODELS_DIR'] ?? join(REPO_ROOT, 'models');
  const manifest = join(dir, name, 'manifest.json');
  if (!existsSync(manifest)) {
    throw new Error(`the model-backed tests need ${manifest}: restore models/${name} (git checkout -- models) or point CLICKVID_TEST_MODELS_DIR at a directory holding ${name}/`);
  }
  return { dir, name };
}
