import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisHandle } from '../../../test/harness.js';
import { REPO_ROOT } from './config.js';
import { CostEstimator } from './cost-calibration.js';
import { keys } from './keys.js';
import { ModelRegistry } from './model-registry.js';
import { ModelVersions } from './model-versions.js';
import { canaryModelsDir } from './model-versions.testkit.js';
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
    const server = new CostEstimator(redis);
    await server.start(60_000);
    expect(server.seconds(registry, 'draft', draft)).toBe(registry.estimateSeconds('draft', draft));
    server.stop();
  });

  it("follows the meter: a server's estimate converges on what the workers billed, per quality", async () => {
    const worker = new CostEstimator(redis);
    const server = new CostEstimator(redis);
    const est = registry.estimateSeconds('draft', draft);
    // Jobs here take 2.5 times the manifest's measurement (a slower machine, wall-clock under load).
    for (let i = 0; i < 30; i++) await worker.observe(registry, 'draft', draft, est * 2.5);
    await server.refresh();
    expect(server.seconds(registry, 'draft', draft) / est).toBeCloseTo(2.5, 2);
    // Another quality keeps its own factor.
    expect(server.seconds(registry, 'final', final)).toBe(registry.estimateSeconds('final', final));
    // It scales the job's own estimate: more frames, more seconds, by the same factor.
    const longer = registry.resolveParams('draft', { duration_s: draft.duration_s * 2 }, () => 1);
    expect(server.seconds(registry, 'draft', longer) / registry.estimateSeconds('draft', longer)).toBeCloseTo(2.5, 2);
    expect(server.seconds(registry, 'draft', longer)).toBeGreaterThan(server.seconds(registry, 'draft', draft));
  });

  it('is not thrown far by one odd reading, and ignores readings that are not a cost', async () => {
    const w = new CostEstimator(redis);
    const est = registry.estimateSeconds('final', final);
    for (let i = 0; i < 20; i++) await w.observe(registry, 'final', final, est);
    await w.observe(registry, 'final', final, est * 1e6); // a paused VM
    await w.observe(registry, 'final', final, 0);
    await w.observe(registry, 'final', final, Number.NaN);
    await w.refresh();
    const f = w.factor(registry.modelRef('final'), 'final');
    expect(f).toBeGreaterThan(1);
    expect(f).toBeLessThan(5);
  });

  it('keeps a factor per version: a canary is estimated with its own manifest and meter, the stable one is not moved', async () => {
    const dir = canaryModelsDir(0.2);
    const versions = ModelVersions.load(dir, 'clickvid-shapes');
    const [stable, canary] = versions.served().map((v) => v.registry) as [ModelRegistry, ModelRegistry];
    expect(canary.version).not.toBe(stable.version);
    await redis.del(keys.costCalibration());
    const w = new CostEstimator(redis);
    const cp = canary.resolveParams('draft', {}, () => 1);
    for (let i = 0; i < 30; i++) await w.observe(canary, 'draft', cp, canary.estimateSeconds('draft', cp) * 3);
    await w.refresh();
    expect(w.seconds(canary, 'draft', cp) / canary.estimateSeconds('draft', cp)).toBeCloseTo(3, 2);
    const sp = stable.resolveParams('draft', {}, () => 1);
    expect(w.seconds(stable, 'draft', sp)).toBe(stable.estimateSeconds('draft', sp));
    rmSync(dir, { recursive: true, force: true });
  });
});
