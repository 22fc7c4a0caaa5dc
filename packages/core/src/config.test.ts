import { describe, expect, it } from 'vitest';
import { createTracer, NO_TRACER } from './tracing.js';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('has working defaults and is frozen', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 8080, storage: { driver: 'local' }, workerLanes: ['draft', 'final'], batching: { draft: { maxBatch: 8 } } });
    expect(Object.isFrozen(c)).toBe(true);
    expect(c.signingSecretGenerated).toBe(true);
  });

  it('names the variable when a value is bad', () => {
    expect(() => loadConfig({ CLICKVID_PORT: 'eighty' })).toThrow(/CLICKVID_PORT/);
    expect(() => loadConfig({ CLICKVID_DRAFT_MAX_BATCH: '0' })).toThrow(/CLICKVID_DRAFT_MAX_BATCH/);
    expect(() => loadConfig({ CLICKVID_WORKER_LANES: 'draft,turbo' })).toThrow(/CLICKVID_WORKER_LANES/);
    expect(() => loadConfig({ CLICKVID_STORAGE: 's3' })).toThrow(ConfigError);
  });

  it('reads the batching knobs and lanes', () => {
    const c = loadConfig({ CLICKVID_DRAFT_MAX_BATCH: '1', CLICKVID_UNIT_MS: '20', CLICKVID_WORKER_LANES: 'final' });
    expect(c.batching).toEqual({ draft: { maxBatch: 1 }, final: { maxBatch: 2 } });
    expect(c.scheduler).toEqual({ unitMs: 20, finalMinShare: 0.25, maxPausedBytes: 256 * 2 ** 20 });
    expect(c.executionProviders).toEqual(['cpu']);
    expect(loadConfig({ CLICKVID_EXECUTION_PROVIDERS: 'CUDA, cpu' }).executionProviders).toEqual(['cuda', 'cpu']);
    expect(c.workerLanes).toEqual(['final']);
  });

  it('takes admin keys as sha256 hashes only, and team defaults from the limits', () => {
    const h = 'a'.repeat(64);
    const c = loadConfig({ CLICKVID_ADMIN_KEY_SHA256: ` ${h.toUpperCase()}, ${'b'.repeat(64)},${h}`, CLICKVID_RATE_LIMIT_PER_MIN: '100', CLICKVID_DAILY_GPU_SECONDS: '5' });
    expect(c.adminKeySha256).toEqual([h, 'b'.repeat(64)]);
    expect(c.teamDefaults).toEqual({
      daily_gpu_seconds: 5, monthly_credits: null, rate_limits: { creates_per_min: 100, reads_per_min: 100 }, allowed_qualities: ['draft', 'standard', 'final'],
    });
    expect(loadConfig({}).adminKeySha256).toEqual([]);
    // A plaintext key where a hash belongs is refused, not treated as a hash.
    expect(() => loadConfig({ CLICKVID_ADMIN_KEY_SHA256: 'cv_admin_plaintext' })).toThrow(/CLICKVID_ADMIN_KEY_SHA256/);
  });

  it('reads per-tier lifetimes as durations (a bare number is days)', () => {
    expect(loadConfig({}).retention).toEqual({ filesS: { draft: 7 * 86_400, standard: 30 * 86_400, final: 90 * 86_400 }, graceS: 30 * 86_400 });
    const c = loadConfig({ CLICKVID_RETENTION_DRAFT: '2s', CLICKVID_RETENTION_STANDARD: '1.5h', CLICKVID_RETENTION_FINAL: '365', CLICKVID_JOB_TTL_DAYS: '2' });
    expect(c.retention).toEqual({ filesS: { draft: 2, standard: 5400, final: 365 * 86_400 }, graceS: 2 * 86_400 });
    expect(() => loadConfig({ CLICKVID_RETENTION_DRAFT: '7 days' })).toThrow(/CLICKVID_RETENTION_DRAFT/);
    expect(() => loadConfig({ CLICKVID_RETENTION_FINAL: '0s' })).toThrow(/CLICKVID_RETENTION_FINAL/);
  });

  it('turns tracing on only when OTEL_TRACES_EXPORTER names an exporter we know', async () => {
    expect(loadConfig({}).tracing.exporters).toEqual([]);
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'none' }).tracing.exporters).toEqual([]);
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'OTLP, console,otlp' }).tracing.exporters).toEqual(['otlp', 'console']);
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' }).tracing.exporters).toEqual([]);
    expect(() => loadConfig({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(/OTEL_TRACES_EXPORTER/);
    // Off: the no-op tracer, whose spans carry no context.
    const off = await createTracer(loadConfig({}), 'x');
    expect(off).toBe(NO_TRACER);
    expect(off.start('s').context).toBeNull();
  });
});
