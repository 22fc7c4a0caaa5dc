import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Quality, type TeamSettings } from '@clickvid/contracts';
import { z } from 'zod';
import type { Retention } from './retention.js';

/** The repository root, found from this file (packages/core/{src,dist}/config.*). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const UNIT_S = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
/** A lifetime: `7d`, `12h`, `90m`, `30s`, or a bare number of days; at least a second. */
const duration = (def: string) => z
  .string()
  .regex(/^\d+(\.\d+)?[smhd]?$/, 'a duration like 7d, 12h, 30m or 45s (a bare number is days)')
  .default(def)
  .transform((v) => {
    const unit = /[smhd]$/.test(v) ? (v.slice(-1) as keyof typeof UNIT_S) : 'd';
    return Math.round(Number(unit === 'd' && !v.endsWith('d') ? v : v.slice(0, -1)) * UNIT_S[unit]);
  })
  .pipe(z.number().int().min(1, 'at least one second').max(10 * 365 * 86_400));

/**
 * Named points in a job's life where a worker can be told to SIGKILL itself
 * (CLICKVID_CRASH_POINT), so the fault suite crashes the shipped code path, not a test double.
 */
export const CRASH_POINTS = ['after_store', 'after_succeed', 'before_ack'] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

/** How far back a team's event stream reaches: whichever bound is reached first cuts. */
export interface TeamEventsRetention {
  /** Events older than this are trimmed (and an idle team's stream expires). @defaultValue 86400 */
  retainS: number;
  /** At most about this many events per team (trimmed approximately, as XTRIM `~` does). @defaultValue 10000 */
  maxPerTeam: number;
}
/** The defaults of {@link TeamEventsRetention}, for lifecycles built without a config (tests, tools). */
export const DEFAULT_TEAM_EVENTS: TeamEventsRetention = Object.freeze({ retainS: 86_400, maxPerTeam: 10_000 });

/**
 * Every environment variable clickvid reads. Parsed once per process, frozen.
 * Nothing else in the code base touches `process.env` (the OpenTelemetry SDK, when tracing is
 * on, reads its own OTEL_* variables: see tracing.ts).
 */
const EnvSchema = z.object({
  CLICKVID_REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
  CLICKVID_REDIS_TIMEOUT_MS: int(50, 60_000).default(2000),
  CLICKVID_HOST: z.string().default('127.0.0.1'),
  CLICKVID_PORT: int(0, 65535).default(8080),
  CLICKVID_PUBLIC_URL: z.url().optional(),
  CLICKVID_TRUST_PROXY: z.string().default('loopback,linklocal,uniquelocal'),
  CLICKVID_DATA_DIR: z.string().default(path.join(REPO_ROOT, '.clickvid')),
  CLICKVID_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CLICKVID_SIGNING_SECRET: z.string().min(16).optional(),
  CLICKVID_BOOTSTRAP_API_KEY: z.string().min(16).optional(),
  CLICKVID_BOOTSTRAP_TEAM: z.string().regex(/^[a-z0-9_-]{1,40}$/).default('dev'),
  CLICKVID_BOOTSTRAP_WEBHOOK_SECRET: z.string().startsWith('whsec_').optional(),
  /** sha256 (hex) of each admin key, comma-separated: the plaintext never sits in the environment. */
  CLICKVID_ADMIN_KEY_SHA256: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[0-9a-f]{64}$/, 'each admin key hash is 64 hex characters (sha256)'))),

  CLICKVID_STORAGE: z.enum(['local', 's3']).default('local'),
  CLICKVID_STORAGE_DIR: z.string().optional(),
  CLICKVID_S3_BUCKET: z.string().optional(),
  CLICKVID_S3_REGION: z.string().default('us-east-1'),
  CLICKVID_S3_ENDPOINT: z.url().optional(),
  CLICKVID_S3_FORCE_PATH_STYLE: bool.default(false),
  CLICKVID_S3_PREFIX: z.string().default(''),
  CLICKVID_S3_ACCESS_KEY_ID: z.string().optional(),
  CLICKVID_S3_SECRET_ACCESS_KEY: z.string().optional(),
  CLICKVID_CDN_BASE_URL: z.url().optional(),
  /** Origins (scheme://host[:port]) whose pages may call /v1 from a browser, comma-separated; empty = no CORS. */
  CLICKVID_CORS_ORIGINS: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(z.url().refine((u) => new URL(u).origin === u.replace(/\/+$/, ''), 'each CORS origin is scheme://host[:port], no path'))),
  /** The studio page's built files (packages/web/dist), served at `/`. */
  CLICKVID_STUDIO_DIR: z.string().default(path.join(REPO_ROOT, 'packages', 'web', 'dist')),
  CLICKVID_ASSET_URL_TTL_S: int(10, 7 * 24 * 3600).default(900),

  CLICKVID_MODELS_DIR: z.string().default(path.join(REPO_ROOT, 'models')),
  CLICKVID_MODEL: z.string().default('clickvid-shapes-3.0'),
  CLICKVID_ORT_THREADS: int(1, 64).default(2),
  CLICKVID_FFMPEG: z.string().default('ffmpeg'),
  CLICKVID_WORKER_CONCURRENCY: int(1, 256).optional(),
  CLICKVID_WORKER_METRICS_PORT: int(0, 65535).optional(),
  CLICKVID_WORKER_LANES: z
    .string()
    .default('draft,final')
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(z.enum(['draft', 'final'])).min(1)),
  CLICKVID_EXECUTION_PROVIDERS: z
    .string()
    .default('cpu')
    .transform((s) => s.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[a-z0-9_]+$/)).min(1)),
  CLICKVID_DRAFT_MAX_BATCH: int(1, 64).default(8),
  CLICKVID_FINAL_MAX_BATCH: int(1, 64).default(2),
  CLICKVID_UNIT_MS: int(1, 10_000).default(30),
  CLICKVID_FINAL_MIN_SHARE: z.coerce.number().min(0).max(0.95).default(0.25),
  CLICKVID_ENGINE_PAUSED_MB: int(1, 1_000_000).default(256),
  CLICKVID_DRAFT_WAIT_BUDGET_MS: int(0, 600_000).default(5000),

  CLICKVID_RATE_LIMIT_PER_MIN: int(1, 1_000_000).default(1200),
  CLICKVID_RATE_LIMIT_CREATES_PER_MIN: int(1, 1_000_000).optional(),
  CLICKVID_RATE_LIMIT_UNAUTH_PER_MIN: int(1, 1_000_000).default(60),
  CLICKVID_RATE_LIMIT_CONTENT_PER_MIN: int(1, 1_000_000).default(600),
  CLICKVID_DAILY_GPU_SECONDS: z.coerce.number().positive().optional(),
  CLICKVID_MONTHLY_CREDITS: z.coerce.number().positive().optional(),
  CLICKVID_CREDITS_PER_GPU_SECOND: z.coerce.number().positive().default(10),
  CLICKVID_ALLOW_PRIVATE_WEBHOOKS: bool.default(false),
  CLICKVID_JOB_TTL_DAYS: int(1, 3650).default(30),
  CLICKVID_RETENTION_DRAFT: duration('7d'),
  CLICKVID_RETENTION_STANDARD: duration('30d'),
  CLICKVID_RETENTION_FINAL: duration('90d'),
  CLICKVID_SWEEP_INTERVAL_MS: int(0, 86_400_000).default(60_000),
  CLICKVID_SSE_MAX_STREAMS_PER_TEAM: int(1, 100_000).default(50),
  CLICKVID_EVENTS_RETAIN_S: int(10, 30 * 86_400).default(DEFAULT_TEAM_EVENTS.retainS),
  CLICKVID_EVENTS_MAX_PER_TEAM: int(100, 10_000_000).default(DEFAULT_TEAM_EVENTS.maxPerTeam),
  CLICKVID_DRAFT_LOCK_MS: int(1000, 600_000).default(3000),
  CLICKVID_FINAL_LOCK_MS: int(1000, 3_600_000).default(30_000),
  CLICKVID_DRAIN_TIMEOUT_MS: int(0, 3_600_000).default(8000),
  CLICKVID_INFERENCE_TIMEOUT_MS: int(0, 3_600_000).default(60_000),
  CLICKVID_RECONCILE_INTERVAL_MS: int(0, 3_600_000).default(10_000),
  CLICKVID_CRASH_POINT: z.enum(['', ...CRASH_POINTS]).default(''),

  /**
   * OpenTelemetry's own variables (the one exception to the CLICKVID_ prefix: operators set them
   * for every service alike). Tracing is on when this names an exporter; unset means off here
   * (the spec's default is otlp), so the SDK is loaded only where someone asked for traces.
   */
  OTEL_TRACES_EXPORTER: z
    .string()
    .default('none')
    .transform((s) => s.split(',').map((x) => x.trim().toLowerCase()).filter((x) => x && x !== 'none'))
    .pipe(z.array(z.enum(['otlp', 'console'], { message: 'exporters clickvid knows: otlp, console, none' }))),
  OTEL_SDK_DISABLED: bool.default(false),
});

export type Config = Readonly<{
  redisUrl: string;
  /** The API server's bound on one Redis command (and on connecting): past it the request answers 503. */
  redisTimeoutMs: number;
  host: string;
  port: number;
  /**
   * Proxies whose X-Forwarded-For is believed (proxy-addr names or CIDRs). Per-address
   * rate limits count by the address this yields, so a client must not be able to set it.
   */
  trustProxy: string;
  /** Base URL clients reach the API on; signed local asset URLs point here. */
  publicUrl: string;
  dataDir: string;
  logLevel: z.infer<typeof EnvSchema>['CLICKVID_LOG_LEVEL'];
  /** HMAC key for local asset URLs. Random per process when unset (URLs then don't survive a restart). */
  signingSecret: string;
  signingSecretGenerated: boolean;
  bootstrap: { apiKey?: string; team: string; webhookSecret?: string };
  /** Hashes of the admin keys (/v1/admin); empty turns the admin API off. */
  adminKeySha256: readonly string[];
  /** Browser origins allowed to call /v1 (CORS); empty: none. */
  corsOrigins: readonly string[];
  /** Where the studio page's built files are. */
  studioDir: string;
  storage: {
    driver: 'local' | 's3';
    dir: string;
    urlTtlS: number;
    s3: {
      bucket?: string; region: string; endpoint?: string; forcePathStyle: boolean; prefix: string;
      accessKeyId?: string; secretAccessKey?: string; cdnBaseUrl?: string;
    };
  };
  model: { dir: string; name: string };
  ortThreads: number;
  ffmpegPath: string;
  workerConcurrency?: number;
  workerMetricsPort?: number;
  /** Lanes this worker consumes: separate draft and final pools scale independently. */
  workerLanes: ReadonlyArray<'draft' | 'final'>;
  /** onnxruntime execution providers, in order of preference (e.g. cuda, cpu). */
  executionProviders: readonly string[];
  /** Most rows of one engine call per lane. */
  batching: Record<'draft' | 'final', { maxBatch: number }>;
  /** The step scheduler: target ms of one unit, finals' minimum share, bytes of paused work. */
  scheduler: { unitMs: number; finalMinShare: number; maxPausedBytes: number };
  draftWaitBudgetMs: number;
  /** Settings of a team where the team sets none of its own (see TeamStore). */
  teamDefaults: TeamSettings;
  /** Per client address, across replicas: failed authentications, and signed asset downloads. */
  addressRateLimits: { unauthPerMin: number; contentPerMin: number };
  creditsPerGpuSecond: number;
  allowPrivateWebhooks: boolean;
  /**
   * Per tier, how long a job's files are kept after it ends (its `expires_at`), and how much
   * longer its record, asset records and index entry stay (`graceS`: an expired asset answers
   * 410 `asset_expired` in that time, then 404).
   */
  retention: Retention;
  /** How often a process runs the retention sweeper (0 = never). */
  sweepIntervalMs: number;
  /** Concurrent GET /v1/jobs/{id}/events streams per team, across all servers. */
  sseMaxStreamsPerTeam: number;
  /** The team event stream (GET /v1/events): how long and how many events a team can resume from. */
  teamEvents: TeamEventsRetention;
  /**
   * BullMQ's lock per lane. A job whose worker died is redelivered within `lockMs` +
   * `stalledIntervalMs`; `lockMs` must exceed twice the longest event-loop stall, or a
   * live worker loses its lock (harmless for the result, thanks to fencing, but wasted work).
   */
  locks: Record<'draft' | 'final', { lockMs: number; stalledIntervalMs: number; maxStalledCount: number }>;
  /** On SIGTERM, in-flight jobs get this long to finish; the rest are put back in their queue. */
  drainTimeoutMs: number;
  /** A single inference call running longer than this ends the worker process (0 = no watchdog). */
  inferenceTimeoutMs: number;
  /** How often a process compares job records with BullMQ and repairs drift (0 = never). */
  reconcileIntervalMs: number;
  /** Fault injection: the worker SIGKILLs itself on reaching this point. Unset in production. */
  crashPoint: CrashPoint | null;
  /** OpenTelemetry trace exporters (OTEL_TRACES_EXPORTER, OTEL_SDK_DISABLED); empty = tracing off, SDK not loaded. */
  tracing: { exporters: ReadonlyArray<'otlp' | 'console'> };
}>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses the environment once. A bad value throws a ConfigError naming the variable;
 * entry points print it and exit.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.CLICKVID_STORAGE === 's3' && !e.CLICKVID_S3_BUCKET) {
    throw new ConfigError('invalid configuration:\n  CLICKVID_S3_BUCKET: required when CLICKVID_STORAGE=s3');
  }
  const publicUrl = (e.CLICKVID_PUBLIC_URL ?? `http://${e.CLICKVID_HOST}:${e.CLICKVID_PORT}`).replace(/\/+$/, '');
  const config: Config = {
    redisUrl: e.CLICKVID_REDIS_URL,
    redisTimeoutMs: e.CLICKVID_REDIS_TIMEOUT_MS,
    host: e.CLICKVID_HOST,
    port: e.CLICKVID_PORT,
    publicUrl,
    trustProxy: e.CLICKVID_TRUST_PROXY,
    dataDir: e.CLICKVID_DATA_DIR,
    logLevel: e.CLICKVID_LOG_LEVEL,
    signingSecret: e.CLICKVID_SIGNING_SECRET ?? randomBytes(32).toString('base64url'),
    signingSecretGenerated: !e.CLICKVID_SIGNING_SECRET,
    bootstrap: {
      team: e.CLICKVID_BOOTSTRAP_TEAM,
      ...(e.CLICKVID_BOOTSTRAP_API_KEY ? { apiKey: e.CLICKVID_BOOTSTRAP_API_KEY } : {}),
      ...(e.CLICKVID_BOOTSTRAP_WEBHOOK_SECRET ? { webhookSecret: e.CLICKVID_BOOTSTRAP_WEBHOOK_SECRET } : {}),
    },
    adminKeySha256: Object.freeze([...new Set(e.CLICKVID_ADMIN_KEY_SHA256)]),
    corsOrigins: Object.freeze([...new Set(e.CLICKVID_CORS_ORIGINS.map((u) => new URL(u).origin))]),
    studioDir: e.CLICKVID_STUDIO_DIR,
    storage: {
      driver: e.CLICKVID_STORAGE,
      dir: e.CLICKVID_STORAGE_DIR ?? path.join(e.CLICKVID_DATA_DIR, 'storage'),
      urlTtlS: e.CLICKVID_ASSET_URL_TTL_S,
      s3: {
        bucket: e.CLICKVID_S3_BUCKET,
        region: e.CLICKVID_S3_REGION,
        endpoint: e.CLICKVID_S3_ENDPOINT,
        forcePathStyle: e.CLICKVID_S3_FORCE_PATH_STYLE,
        prefix: e.CLICKVID_S3_PREFIX,
        accessKeyId: e.CLICKVID_S3_ACCESS_KEY_ID,
        secretAccessKey: e.CLICKVID_S3_SECRET_ACCESS_KEY,
        cdnBaseUrl: e.CLICKVID_CDN_BASE_URL,
      },
    },
    model: { dir: e.CLICKVID_MODELS_DIR, name: e.CLICKVID_MODEL },
    ortThreads: e.CLICKVID_ORT_THREADS,
    ffmpegPath: e.CLICKVID_FFMPEG,
    workerConcurrency: e.CLICKVID_WORKER_CONCURRENCY,
    workerMetricsPort: e.CLICKVID_WORKER_METRICS_PORT,
    workerLanes: [...new Set(e.CLICKVID_WORKER_LANES)],
    batching: {
      draft: { maxBatch: e.CLICKVID_DRAFT_MAX_BATCH },
      final: { maxBatch: e.CLICKVID_FINAL_MAX_BATCH },
    },
    executionProviders: [...new Set(e.CLICKVID_EXECUTION_PROVIDERS)],
    scheduler: { unitMs: e.CLICKVID_UNIT_MS, finalMinShare: e.CLICKVID_FINAL_MIN_SHARE, maxPausedBytes: e.CLICKVID_ENGINE_PAUSED_MB * 2 ** 20 },
    draftWaitBudgetMs: e.CLICKVID_DRAFT_WAIT_BUDGET_MS,
    teamDefaults: {
      daily_gpu_seconds: e.CLICKVID_DAILY_GPU_SECONDS ?? null,
      monthly_credits: e.CLICKVID_MONTHLY_CREDITS ?? null,
      rate_limits: {
        creates_per_min: e.CLICKVID_RATE_LIMIT_CREATES_PER_MIN ?? e.CLICKVID_RATE_LIMIT_PER_MIN,
        reads_per_min: e.CLICKVID_RATE_LIMIT_PER_MIN,
      },
      allowed_qualities: [...Quality.options],
    },
    addressRateLimits: { unauthPerMin: e.CLICKVID_RATE_LIMIT_UNAUTH_PER_MIN, contentPerMin: e.CLICKVID_RATE_LIMIT_CONTENT_PER_MIN },
    creditsPerGpuSecond: e.CLICKVID_CREDITS_PER_GPU_SECOND,
    allowPrivateWebhooks: e.CLICKVID_ALLOW_PRIVATE_WEBHOOKS,
    retention: Object.freeze({
      filesS: Object.freeze({ draft: e.CLICKVID_RETENTION_DRAFT, standard: e.CLICKVID_RETENTION_STANDARD, final: e.CLICKVID_RETENTION_FINAL }),
      graceS: e.CLICKVID_JOB_TTL_DAYS * 86_400,
    }),
    sweepIntervalMs: e.CLICKVID_SWEEP_INTERVAL_MS,
    sseMaxStreamsPerTeam: e.CLICKVID_SSE_MAX_STREAMS_PER_TEAM,
    teamEvents: { retainS: e.CLICKVID_EVENTS_RETAIN_S, maxPerTeam: e.CLICKVID_EVENTS_MAX_PER_TEAM },
    locks: {
      // Drafts: recovered within ~4 s of a worker's death (lock 3 s + check every 1 s). A short
      // lock means false stalls when a worker is starved of CPU for seconds; fencing makes them
      // harmless, and a job may stall 10 times (5 for finals) before BullMQ fails it: with 3, a
      // run on a machine at load 30 failed 2 of 32 healthy drafts. A job that kills its worker
      // every time costs at most that many restarts.
      draft: { lockMs: e.CLICKVID_DRAFT_LOCK_MS, stalledIntervalMs: Math.max(500, Math.round(e.CLICKVID_DRAFT_LOCK_MS / 3)), maxStalledCount: 10 },
      final: { lockMs: e.CLICKVID_FINAL_LOCK_MS, stalledIntervalMs: Math.max(500, Math.round(e.CLICKVID_FINAL_LOCK_MS / 3)), maxStalledCount: 5 },
    },
    drainTimeoutMs: e.CLICKVID_DRAIN_TIMEOUT_MS,
    inferenceTimeoutMs: e.CLICKVID_INFERENCE_TIMEOUT_MS,
    reconcileIntervalMs: e.CLICKVID_RECONCILE_INTERVAL_MS,
    crashPoint: e.CLICKVID_CRASH_POINT || null,
    tracing: { exporters: e.OTEL_SDK_DISABLED ? [] : [...new Set(e.OTEL_TRACES_EXPORTER)] },
  };
  return Object.freeze(config);
}

/**
 * For entry points: the config, or a message naming the bad variable on stderr and
 * exit code 78 (EX_CONFIG), so a process manager does not restart it in a loop.
 */
export function loadConfigOrExit(service: string, env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`clickvid ${service}: ${err.message}\n`);
    process.exit(78);
  }
}

/** Ends the process at once, as a power cut would, when `point` is the configured crash point. */
export function crashAt(config: { crashPoint?: CrashPoint | null }, point: CrashPoint): void {
  if (config.crashPoint === point) process.kill(process.pid, 'SIGKILL');
}
