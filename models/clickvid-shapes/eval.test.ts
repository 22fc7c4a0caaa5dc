/**
 * CI's inference smoke test of the shipped model: the real ONNX files through
 * onnxruntime-node, analyzed frame by frame (eval.mjs --subset), on held-out compositions,
 * on captions beyond the core grammar ("and", gradient backgrounds) and on held-out
 * paraphrases (a creator's own words: synonyms and templates no training caption used).
 *
 * The floors sit below the full evaluation's figures (README.md: 100 % on every attribute)
 * by a margin for a 12-prompt sample; they are the targets, not today's level.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const VARIANTS = ['fp32-128', 'fp32-256', 'int8-128', 'int8-256'];
// 2.2: 2.0.0's decoders with the 2.2 text encoder, the weights the default 3.0.0 serves in pipeline form (its own smoke test: ../clickvid-shapes-3.0/eval.test.ts)
const DEFAULT_DIR = new URL('../clickvid-shapes-2.2', import.meta.url).pathname;

async function evaluate(...args: string[]): Promise<Record<string, Record<string, number>>> {
  const { stdout } = await run(process.execPath, [new URL('./eval.mjs', import.meta.url).pathname, '--json', '--no-speed', ...args], { maxBuffer: 16 << 20 });
  const res = JSON.parse(stdout);
  expect(res.pass).toBe(true); // includes determinism: same prompt + seed -> same bytes, alone or in a batch
  return res.accuracy;
}

describe('clickvid-shapes', () => {
  it('follows held-out prompts: count, colour, shape, motion and background', async () => {
    const acc = await evaluate('--dir', DEFAULT_DIR, '--subset', '12', '--min-accuracy', '0.95');
    expect(Object.keys(acc).sort()).toEqual(VARIANTS);
    for (const [variant, a] of Object.entries(acc)) {
      const floor = variant.startsWith('fp32') ? 0.95 : 0.93;
      for (const attr of ['count', 'color', 'shape', 'motion', 'background']) expect(a[attr], `${variant} ${attr}`).toBeGreaterThanOrEqual(floor - 0.1);
      expect(a.overall, variant).toBeGreaterThanOrEqual(floor);
    }
  }, 180_000);

  it('draws two groups joined by "and" and gradient backgrounds', async () => {
    const acc = await evaluate('--dir', DEFAULT_DIR, '--split', 'extended', '--subset', '8', '--variants', 'int8-128,fp32-256', '--min-accuracy', '0.9');
    expect(Object.keys(acc).sort()).toEqual(['fp32-256', 'int8-128']);
  }, 180_000);

  it("2.2 (the weights the default 3.0 serves) follows a creator's own words: held-out synonyms, orders and clauses", async () => {
    // The first 12 of the split are the hand-written prompts ("on a white background, a yellow
    // triangle moves left", "2 red balls rising on a black backdrop", "I want a green triangle
    // heading right. The background is purple!", "Red box, bouncing, on a cyan backdrop.", ...);
    // the next 12 are generated: 4 start with the background as its own clause ("the background
    // is red. a ...", "Ivory Background: 1 Ebony Circle ...", 2.1's weak spot), others use
    // "which is", "in front of C", "on a background of C", "the background is" and held-out synonyms. Floors: the bar (90 % overall,
    // 85 % per attribute), less a margin per attribute for a 24-prompt sample.
    const acc = await evaluate('--dir', DEFAULT_DIR, '--split', 'paraphrase', '--subset', '24', '--variants', 'int8-128,fp32-256', '--min-accuracy', '0.9');
    expect(Object.keys(acc).sort()).toEqual(['fp32-256', 'int8-128']);
    for (const [variant, a] of Object.entries(acc)) {
      for (const attr of ['count', 'color', 'shape', 'motion', 'background']) expect(a[attr], `${variant} ${attr}`).toBeGreaterThanOrEqual(0.8);
    }
  }, 240_000);
});
