/**
 * The one seeded noise source for serving, evaluation and benches: a job's seed always
 * gives the same numbers, wherever they are drawn.
 */

/** Standard 32-bit mulberry32, the generator manifests name for seed noise. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `length` numbers from the seed's mulberry32 stream: uniform in [0, 1), or standard normal
 * by Box–Muller (two uniforms give two normals; `1 − u1` keeps the log finite).
 */
export function seededNoise(seed: number, length: number, distribution: 'uniform' | 'normal'): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(length);
  if (distribution === 'uniform') {
    for (let i = 0; i < length; i++) out[i] = rand();
    return out;
  }
  for (let i = 0; i < length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rand()));
    const theta = 2 * Math.PI * rand();
    out[i] = r * Math.cos(theta);
    if (i + 1 < length) out[i + 1] = r * Math.sin(theta);
  }
  return out;
}
