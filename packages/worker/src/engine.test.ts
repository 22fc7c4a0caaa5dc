import { copyFileSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelRegistry } from '@clickvid/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceEngine, type EngineItem } from './engine.js';
import { WorkerError } from './errors.js';
import { testModel } from './internal/testing.testkit.js';

const model = testModel();

describe('InferenceEngine on the shipped model', () => {
  let registry: ModelRegistry;
  let engine: InferenceEngine;
  const item = (prompt: string, seed: number, frames: number): EngineItem => ({
    tokens: registry.encodePrompt(prompt).tokens,
    noise: registry.noise(seed),
    times: registry.times(frames),
  });

  beforeAll(() => {
    registry = ModelRegistry.load(model.dir, model.name);
    engine = new InferenceEngine({ resolveVariant: (n) => registry.variant(n), intraOpNumThreads: 2 });
  });
  afterAll(() => engine.close());

  it('renders every tier at its size as uint8 RGB, one view per item', async () => {
    for (const q of ['draft', 'standard', 'final'] as const) {
      const tier = registry.tier(q);
      const v = registry.variant(tier.variant);
      const frames = 4;
      const res = await engine.run(tier.variant, [item('a red circle', 1, frames), item('a blue square', 2, frames)]);
      expect(res).toMatchObject({ frames, width: v.width, height: v.height });
      expect(res.videos).toHaveLength(2);
      for (const video of res.videos) {
        expect(video).toBeInstanceOf(Uint8Array);
        expect(video.length).toBe(frames * v.width * v.height * 3);
      }
      // Views into one output buffer, not copies.
      expect(res.videos[0]!.buffer).toBe(res.videos[1]!.buffer);
      expect(res.seconds).toBeGreaterThan(0);
    }
  });

  it('gives each item of a batch what it would get alone', async () => {
    const variant = registry.tier('draft').variant;
    const items = [item('a red circle moving left', 7, 8), item('two green squares', 8, 8), item('a blue triangle', 9, 8)];
    const batched = await engine.run(variant, items);
    for (let i = 0; i < items.length; i++) {
      const alone = (await engine.run(variant, [items[i]!])).videos[0]!;
      let maxDiff = 0;
      for (let j = 0; j < alone.length; j++) maxDiff = Math.max(maxDiff, Math.abs(alone[j]! - batched.videos[i]![j]!));
      // Kernels may pick other blockings at another batch size; a pixel may round differently, never more.
      expect(maxDiff).toBeLessThanOrEqual(2);
    }
    // Different prompts and seeds make different videos.
    expect(Buffer.compare(Buffer.from(batched.videos[0]!), Buffer.from(batched.videos[1]!))).not.toBe(0);
  });

  it('is deterministic for a seed', async () => {
    const variant = registry.tier('draft').variant;
    const a = await engine.run(variant, [item('a red circle', 42, 6)]);
    const b = await engine.run(variant, [item('a red circle', 42, 6)]);
    expect(Buffer.from(a.videos[0]!).equals(Buffer.from(b.videos[0]!))).toBe(true);
  });

  it('serializes concurrent runs (one session.run at a time) and keeps their results apart', async () => {
    const variant = registry.tier('draft').variant;
    const runs = await Promise.all([1, 2, 3].map((s) => engine.run(variant, [item('a red circle', s, 4)])));
    const again = await engine.run(variant, [item('a red circle', 2, 4)]);
    expect(Buffer.from(runs[1]!.videos[0]!).equals(Buffer.from(again.videos[0]!))).toBe(true);
  });

  describe('refuses a model file that does not match the manifest', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'clickvid-badmodel-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('sha256 mismatch → model_unavailable, not retryable', async () => {
      const v = registry.variant(registry.tier('draft').variant);
      const bad = join(dir, v.file);
      copyFileSync(v.path, bad);
      const bytes = readFileSync(bad);
      bytes[bytes.length - 1]! ^= 0xff;
      writeFileSync(bad, bytes);
      const e = new InferenceEngine({ resolveVariant: (n) => ({ ...registry.variant(n), path: join(dir, registry.variant(n).file) }) });
      const err = await e.run(v.name, [item('a red circle', 1, 4)]).catch((x: unknown) => x);
      expect(err).toBeInstanceOf(WorkerError);
      expect(err).toMatchObject({ code: 'model_unavailable', retryable: false });
      expect((err as Error).message).toMatch(/sha256/);
      await e.close();
    });

    it('missing file or unknown variant → model_unavailable', async () => {
      const e = new InferenceEngine({ resolveVariant: (n) => (n === 'gone' ? { name: n, path: join(dir, 'nope.onnx'), sha256: '0'.repeat(64), width: 8, height: 8 } : undefined) });
      await expect(e.warm('gone')).rejects.toMatchObject({ code: 'model_unavailable', retryable: false });
      await expect(e.warm('unknown')).rejects.toMatchObject({ code: 'model_unavailable', retryable: false });
      await e.close();
    });
  });
});
