import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisHandle } from '../../../test/harness.js';
import { REPO_ROOT } from './config.js';
import { CostEstimator } from './cost-calibration.js';
import { ModelRegistry } from './model-registry.js';
import { createRedis, type Redis } from './redis.js';

let rh: RedisHandle;
let redis: Redis;
const registry = ModelRegistry.load(path.join(REPO_ROOT, 'models'), 'clickvid-shapes');
const draft = registry.resolveParams('draft', {}, () => 1);
const final = registry.resolveParams('final', {}, () => 1);

beforeAll(async () => {
  rh = await startRedis();
  redis = createRedis(rh.url);
});
afterAll(async () => {
  redis.disconnect();
  await rh.stop();
});

describe('CostEstimator', () => {
  it("answers the manifest's estimate until a job was metered", async () => {
    const server = new CostEstimator(redis, registry);
    await server.start(60_000);
    expect(server.seconds('draft', draft)).toBe(registry.estimateSeconds('draft', draft));
    server.stop();
  });

  it("follows the meter: a server's estimate converges on what the workers billed, per quality", async () => {
    const worker = new CostEstimator(redis, registry);
    const server = new CostEstimator(redis, registry);
    const est = registry.estimateSeconds('draft', draft);
    // Jobs here take 2.5 times the manifest's measurement (a slower machine, wall-clock under load).
    for (let i = 0; i < 30; i++) await worker.observe(registry.modelRef('draft'), 'draft', draft, est * 2.5);
    await server.refresh();
    expect(server.seconds('draft', draft) / est).toBeCloseTo(2.5, 2);
    // Another quality keeps its own factor.
    expect(server.seconds('final', final)).toBe(registry.estimateSeconds('final', final));
    // It scales the job's own estimate: more frames, more seconds, by the same factor.
    const longer = registry.resolveParams('draft', { duration_s: draft.duration_s * 2 }, () => 1);
    expect(server.seconds('draft', longer) / registry.estimateSeconds('draft', longer)).toBeCloseTo(2.5, 2);
    expect(server.seconds('draft', longer)).toBeGreaterThan(server.seconds('draft', draft));
  });

  it('is not thrown far by one odd reading, and ignores readings that are not a cost', async () => {
    const w = new CostEstimator(redis, registry);
    const est = registry.estimateSeconds('final', final);
    for (let i = 0; i < 20; i++) await w.observe(registry.modelRef('final'), 'final', final, est);
    await w.observe(registry.modelRef('final'), 'final', final, est * 1e6); // a paused VM
    await w.observe(registry.modelRef('final'), 'final', final, 0);
    await w.observe(registry.modelRef('final'), 'final', final, Number.NaN);
    await w.refresh();
    const f = w.factor(registry.modelRef('final'), 'final');
    expect(f).toBeGreaterThan(1);
    expect(f).toBeLessThan(5);
  });
});
