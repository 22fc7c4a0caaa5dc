import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './config.js';
import { ModelError, ModelRegistry, mulberry32 } from './model-registry.js';

function fixture(opts: { corrupt?: boolean; finalMs?: Record<string, number> } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'cv-model-'));
  mkdirSync(path.join(dir, 'toy'));
  const bytes = Buffer.from('not really onnx, but hashed like one');
  const sha = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(path.join(dir, 'toy', 'v.onnx'), opts.corrupt ? Buffer.from('tampered') : bytes);
  const tier = { variant: 'v', fps: 8, duration_s: 2, max_duration_s: 4, max_batch: 8, ms_per_video: { '1': 10, '8': 4 } };
  const manifest = {
    id: 'toy', version: '1.2.3',
    text: { max_tokens: 6, vocabulary: ['<pad>', '<unk>', 'a', 'on', 'red', 'circle', 'blue', 'background'], aliases: { circles: 'circle', grey: 'gray' }, function_words: ['a', 'on', 'background'] },
    noise: { dim: 4, generator: 'mulberry32', distribution: 'uniform' },
    inputs: [], outputs: [],
    variants: { v: { file: 'v.onnx', sha256: sha, bytes: bytes.length, precision: 'int8', width: 128, height: 128 } },
    tiers: { draft: tier, standard: tier, final: { ...tier, fps: 24, ...(opts.finalMs ? { ms_per_video: opts.finalMs } : {}) } },
  };
  writeFileSync(path.join(dir, 'toy', 'manifest.json'), JSON.stringify(manifest));
  return ModelRegistry.load(dir, 'toy');
}

describe('ModelRegistry', () => {
  it('tokenizes with aliases, pads, and names unknown words', () => {
    const r = fixture();
    const e = r.encodePrompt('A RED circles, sparkling on a blue background!');
    expect(Array.from(e.tokens, Number)).toEqual([2, 4, 5, 1, 3, 2]);
    expect(e.unknown).toEqual(['sparkling']);
    expect(e.known).toEqual(['red', 'circle', 'blue']);
    expect(e.normalized).toBe('a red circle sparkling on a blue background');
  });

  it('looks words up as words, never as properties of Object.prototype', () => {
    const r = fixture();
    const e = r.encodePrompt('a red circle, constructor toString __proto__ valueOf');
    expect(e.words).toEqual(['a', 'red', 'circle', 'constructor', 'tostring', 'proto', 'valueof']);
    expect(e.unknown).toEqual(['constructor', 'tostring', 'proto', 'valueof']);
    expect(e.normalized).toBe('a red circle constructor tostring proto valueof');
    expect(Array.from(e.tokens, Number)).toEqual([2, 4, 5, 1, 1, 1]);
    const shipped = ModelRegistry.load(path.join(import.meta.dirname, '../../../models'), 'clickvid-shapes');
    expect(shipped.sceneOverflow(shipped.words('constructor constructor red circle'))).toBeNull();
  });

  it('rejects a prompt with no content word, listing the vocabulary', () => {
    const r = fixture();
    try {
      r.encodePrompt('a lovely sunset on the beach');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ModelError);
      expect((err as ModelError).code).toBe('prompt_not_understood');
      expect((err as ModelError).details?.vocabulary).toEqual(['red', 'circle', 'blue']);
    }
  });

  it('makes the same noise for the same seed, and other noise for another', () => {
    const r = fixture();
    expect(r.noise(42)).toEqual(r.noise(42));
    expect(r.noise(42)).not.toEqual(r.noise(43));
    // Reference values of mulberry32(1): the first draw is 0.6270739405881613.
    expect(mulberry32(1)()).toBeCloseTo(0.6270739405881613, 12);
  });

  it('fills tier defaults and refuses what the model cannot do', () => {
    const r = fixture();
    const p = r.resolveParams('final', { seed: 5 }, () => 0);
    expect(p).toEqual({ duration_s: 2, fps: 24, frames: 48, width: 128, height: 128, aspect_ratio: '1:1', seed: 5 });
    expect(() => r.resolveParams('draft', { duration_s: 10 }, () => 0)).toThrow(/at most 4/);
    expect(() => r.resolveParams('draft', { aspect_ratio: '16:9' }, () => 0)).toThrow(/1:1 only/);
    expect(r.times(3)).toEqual(new Float32Array([0, 0.5, 1]));
  });

  it('says when a prompt asks for more objects or groups than the shipped model draws', () => {
    const r = ModelRegistry.load(path.join(import.meta.dirname, '../../../models'), 'clickvid-shapes');
    const over = (p: string) => r.sceneOverflow(r.words(p));
    expect(over('a red circle and two blue squares bouncing on a green to black gradient background')).toBeNull();
    expect(over('three red circles on a blue background')).toBeNull();
    expect(over('three red circles and two blue squares on a black background')).toMatch(/asks for 5 objects in 2 groups; the model draws at most 3 objects in at most 2 groups/);
    expect(over('a red circle and a blue square and a green triangle')).toMatch(/3 objects in 3 groups/);
    expect(fixture().sceneOverflow(['three', 'red', 'circle'])).toBeNull(); // no scene limits in the manifest
  });

  it('serves a pipeline-form model: a variant per precision and size, frames on the latent rule, one hash over its files', async () => {
    const r = ModelRegistry.load(path.join(import.meta.dirname, '../../../models'), 'pipeline-fixture');
    expect(r.form).toBe('pipeline');
    expect(Object.keys(r.manifest.variants).sort()).toEqual(['fp32-128', 'fp32-96', 'int8-64']);
    expect(r.tier('draft')).toMatchObject({ variant: 'int8-64', fps: 8, duration_s: 9 / 8, max_duration_s: 17 / 8, max_batch: 8 });
    const p = r.pipeline;
    const files = [p.textEncoder!.variants.get('default')!, p.denoiser!.variants.get('int8')!, p.decoder.variants.get('default')!, p.schedulerFile!];
    const sha = createHash('sha256').update(JSON.stringify(files.map((f) => f.sha256))).digest('hex');
    expect(r.modelRef('draft')).toEqual({ id: 'pipeline-fixture', version: p.version, variant: 'int8-64', sha256: sha });
    expect(r.modelRef('final').sha256).not.toBe(sha); // another denoiser variant
    // Frames follow the latent's 8k+1 rule: 2 s at 8 fps is 16 frames, rendered as 17; more than the tier's most is refused.
    expect(r.resolveParams('draft', {}, () => 5)).toMatchObject({ frames: 9, width: 64, height: 64, fps: 8, seed: 5 });
    expect(r.resolveParams('draft', { duration_s: 2 }, () => 5)).toMatchObject({ frames: 17, duration_s: 17 / 8 });
    expect(() => r.resolveParams('draft', { duration_s: 2, fps: 24 }, () => 5)).toThrow(expect.objectContaining({ code: 'unsupported_parameter', param: 'duration_s' }));
    expect(r.encodePrompt('a grey circle moving left').normalized).toBe('a white circle moving left');
    expect(r.aspectRatios()).toEqual(['1:1']);
    expect(() => r.noise(1)).toThrow(/draws the latents/);
    await expect(r.verify('int8-64')).rejects.toThrow(/verified one by one/);
  });

  it('refuses a tier whose cost was never measured: it sizes a final\'s units and every estimate', () => {
    expect(() => fixture({ finalMs: { '1': 0, '2': 0 } })).toThrow(/(?=[\s\S]*tiers\.final\.ms_per_video)(?=[\s\S]*must be measured)/);
    expect(() => fixture({ finalMs: {} })).toThrow(/(?=[\s\S]*tiers\.final\.ms_per_video)(?=[\s\S]*at least one batch size)/);
  });

  it('every shipped model loads, each tier with a measured cost', () => {
    const models = path.join(REPO_ROOT, 'models');
    const shipped = readdirSync(models).filter((d) => existsSync(path.join(models, d, 'manifest.json')));
    expect(shipped).toContain('clickvid-shapes-2.2');
    for (const name of shipped) {
      const r = ModelRegistry.load(models, name);
      for (const q of ['draft', 'standard', 'final'] as const) expect(r.estimateSeconds(q, r.resolveParams(q, {}, () => 1)), `${name} ${q}`).toBeGreaterThan(0.02);
    }
  });

  it('verifies variant files against their sha256', async () => {
    await expect(fixture().verify('v')).resolves.toBeUndefined();
    await expect(fixture({ corrupt: true }).verify('v')).rejects.toThrow(/does not match the manifest/);
  });
});
