import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './config.js';
import { ModelError, ModelRegistry } from './model-registry.js';
import { canaryModelsDir } from './model-versions.testkit.js';
import { ModelVersions, modelDigest, routePoint } from './model-versions.js';
import { contentKey } from './output-cache.js';

const dir = canaryModelsDir(0.2);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ModelVersions', () => {
  const versions = ModelVersions.load(dir, 'clickvid-shapes');

  it('loads the canary the manifest names, and serves both with their shares', () => {
    expect(versions.served().map((v) => [v.registry.version, v.channel, v.share])).toEqual([
      ['2.0.0', 'stable', 0.8],
      ['2.1.0', 'canary', 0.2],
    ]);
    expect(versions.get('2.1.0')?.dir).toContain('clickvid-shapes-2.1');
    expect(versions.get('9.9.9')).toBeUndefined();
    // Without a canary in the manifest (the shipped one), one version.
    expect(ModelVersions.load(`${REPO_ROOT}/models`, 'clickvid-shapes').served()).toHaveLength(1);
  });

  it('routes a share of distinct prompt and seed pairs to the canary, the same pair always to the same version', () => {
    let canary = 0;
    const n = 5000;
    for (let i = 0; i < n; i++) {
      const prompt = `a red circle moving ${['left', 'right', 'up', 'down'][i % 4]}`;
      const v = versions.route(prompt, i).version;
      expect(versions.route(prompt, i).version).toBe(v);
      expect(v).toBe(routePoint(prompt, i) < 0.2 ? '2.1.0' : '2.0.0');
      if (v === '2.1.0') canary++;
    }
    expect(canary / n).toBeGreaterThan(0.18);
    expect(canary / n).toBeLessThan(0.22);
  });

  it('pins a derived job to its parent\'s version, or to the stable one with a warning when that is gone', () => {
    expect(versions.pinned('2.1.0')).toEqual({ registry: versions.get('2.1.0'), warning: null });
    const gone = versions.pinned('1.0.0');
    expect(gone.registry.version).toBe('2.0.0');
    expect(gone.warning).toMatch(/1\.0\.0 .*no longer served; rendered with 2\.0\.0/);
  });

  it('refuses a canary of another model or of the stable version', () => {
    const stable = versions.stable;
    expect(() => new ModelVersions(stable, { registry: stable, share: 0.5 })).toThrow(ModelError);
  });

  it('keys the output cache by the whole model: no key is shared across versions, a traffic shift changes none', () => {
    const stable = versions.stable;
    const canary = versions.get('2.1.0')!;
    expect(modelDigest(stable)).toMatch(/^[0-9a-f]{64}$/);
    expect(modelDigest(stable)).not.toBe(modelDigest(canary));
    // The shipped 2.0.0 manifest has no canary; this one has: the same model, the same digest.
    expect(modelDigest(ModelRegistry.load(`${REPO_ROOT}/models`, 'clickvid-shapes'))).toBe(modelDigest(stable));
    const params = { duration_s: 2, fps: 8, frames: 16, width: 128, height: 128, aspect_ratio: '1:1' as const, seed: 7 };
    // Even with the same variant file named, another manifest (e.g. new noise or vocabulary) is another key.
    const ref = stable.modelRef('draft');
    expect(contentKey('t', modelDigest(stable), ref, 'a red circle', params)).not.toBe(contentKey('t', modelDigest(canary), ref, 'a red circle', params));
  });
});
