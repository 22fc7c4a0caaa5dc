/**
 * CI's smoke test of the default model in pipeline form: its ONNX files through the worker's own
 * PipelineRunner (text encoder, denoiser steps, decode), every clip scored by the independent
 * analyzer (eval.mjs --subset). Floors are the targets (FP32 finals ≥ 95 %, INT8 drafts
 * ≥ 93 %), below the full evaluation's 100 % (README.md) by the margin a 12-prompt sample needs.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

async function evaluate(...args: string[]) {
  const { stdout } = await run(process.execPath, [new URL('./eval.mjs', import.meta.url).pathname, '--json', '--no-speed', ...args], { maxBuffer: 16 << 20 });
  const res = JSON.parse(stdout);
  expect(res.pass).toBe(true); // includes determinism: the same prompt and seed alone and second in a batch of two
  return res as { accuracy: Record<string, Record<string, number>>; seed_variation: Record<string, { std: number; attributes_max_diff_across_seeds: number }> };
}

describe('clickvid-shapes 3.0.0 (pipeline form)', () => {
  it('follows held-out prompts at every tier, and the seed, not the prompt, moves the scene', async () => {
    const res = await evaluate('--subset', '12', '--min-accuracy', '0.93');
    expect(Object.keys(res.accuracy).sort()).toEqual(['fp32-256', 'int8-128', 'int8-256']);
    for (const [variant, a] of Object.entries(res.accuracy)) expect(a.overall, variant).toBeGreaterThanOrEqual(variant.startsWith('fp32') ? 0.95 : 0.93);
    for (const [tier, v] of Object.entries(res.seed_variation)) {
      expect(v.std, tier).toBeGreaterThan(0.2); // the denoiser turns different noise into different seed variation
      expect(v.attributes_max_diff_across_seeds, tier).toBeLessThan(1e-5); // and reads the same caption for every seed
    }
  }, 180_000);

  it('reads held-out paraphrases (a creator\'s own words)', async () => {
    const res = await evaluate('--split', 'paraphrase', '--subset', '12', '--tiers', 'draft', '--min-accuracy', '0.85');
    expect(res.accuracy['int8-128']!.overall).toBeGreaterThanOrEqual(0.85);
  }, 180_000);
});
