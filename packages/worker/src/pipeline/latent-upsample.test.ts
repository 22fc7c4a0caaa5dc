import { describe, expect, it } from 'vitest';
import { upsampleLatents } from './latent-upsample.js';

describe('upsampleLatents', () => {
  it('trilinear matches torch interpolate(align_corners=False) on one axis', () => {
    // torch.nn.functional.interpolate(torch.tensor([0., 1.]).view(1,1,1,1,2), size=(1,1,4), mode='trilinear') → 0, .25, .75, 1
    const out = upsampleLatents(Float32Array.from([0, 1]), [1, 1, 1, 2], [1, 1, 1, 4], 'trilinear');
    expect(Array.from(out)).toEqual([0, 0.25, 0.75, 1]);
  });

  it('resamples frames, height and width, never channels', () => {
    // Two channels of [2 frames, 2, 2]: channel c holds c·100 + its flat index.
    const src = Float32Array.from({ length: 16 }, (_, i) => Math.floor(i / 8) * 100 + (i % 8));
    const near = upsampleLatents(src, [2, 2, 2, 2], [2, 4, 4, 4], 'nearest');
    expect(near.length).toBe(2 * 64);
    // Nearest: output (c, f, y, x) copies (c, ⌊f/2⌋, ⌊y/2⌋, ⌊x/2⌋).
    const at = (a: Float32Array, c: number, f: number, y: number, x: number) => a[((c * 4 + f) * 4 + y) * 4 + x];
    expect(at(near, 1, 3, 2, 1)).toBe(100 + (1 * 4 + 1 * 2 + 0));
    const tri = upsampleLatents(src, [2, 2, 2, 2], [2, 4, 4, 4], 'trilinear');
    // Corners keep the source's corner values (clamped), the inside blends; channel 1 stays 100 above channel 0.
    expect(at(tri, 0, 0, 0, 0)).toBe(0);
    expect(at(tri, 0, 3, 3, 3)).toBe(7);
    // An inside value, from torch 1.13: interpolate(x, size=(4, 4, 4), mode='trilinear')[0, 0, 1, 2, 1] = 2.75.
    expect(at(tri, 0, 1, 2, 1)).toBeCloseTo(2.75, 6);
    for (let i = 0; i < 64; i++) expect(tri[64 + i]! - tri[i]!).toBeCloseTo(100, 4);
  });

  it('refuses latents of another shape or channel count', () => {
    expect(() => upsampleLatents(new Float32Array(5), [1, 1, 2, 2], [1, 1, 4, 4], 'nearest')).toThrow(RangeError);
    expect(() => upsampleLatents(new Float32Array(4), [1, 1, 2, 2], [2, 1, 4, 4], 'nearest')).toThrow(RangeError);
  });
});
