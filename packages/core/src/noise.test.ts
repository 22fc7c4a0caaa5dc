import { describe, expect, it } from 'vitest';
import { mulberry32, seededNoise } from './noise.js';

describe('seeded noise', () => {
  it('is the same stream for a seed, and a standard normal when asked', () => {
    expect(seededNoise(7, 5, 'uniform')).toEqual(seededNoise(7, 5, 'uniform'));
    // Reference values of mulberry32(1): the first draw is 0.6270739405881613.
    expect(seededNoise(1, 1, 'uniform')[0]).toBeCloseTo(mulberry32(1)(), 7);
    const n = seededNoise(3, 20_001, 'normal');
    const mean = n.reduce((a, b) => a + b, 0) / n.length;
    const variance = n.reduce((a, b) => a + (b - mean) ** 2, 0) / n.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    // A shorter draw is a prefix of a longer one: a row's latents do not depend on how much else is drawn.
    expect(seededNoise(3, 7, 'normal')).toEqual(n.subarray(0, 7));
  });
});

