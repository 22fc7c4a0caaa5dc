import { describe, expect, it } from 'vitest';
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
});
