/**
 * Latent upsampling for refine-on-promote: a draft's latents [channels, frames, height, width]
 * brought to a bigger tier's latent shape, one axis at a time (frames, then height, then width),
 * as torch's `interpolate` does: `nearest` (index ⌊o·in/out⌋) or `trilinear` with
 * align_corners=false (source coordinate (o + ½)·in/out − ½, clamped to the edges).
 * Channels are never resampled.
 */
export type UpsampleMode = 'nearest' | 'trilinear';
export type LatentShape = readonly [channels: number, frames: number, height: number, width: number];

export function upsampleLatents(src: Float32Array, from: LatentShape, to: LatentShape, mode: UpsampleMode): Float32Array {
  if (from[0] !== to[0]) throw new RangeError(`latent channels differ: ${from[0]} → ${to[0]}`);
  if (src.length !== from.reduce((a, b) => a * b, 1)) throw new RangeError(`latents of ${src.length} values are not [${from.join(', ')}]`);
  let data = src;
  let shape: number[] = [...from];
  for (const axis of [1, 2, 3] as const) {
    if (shape[axis] === to[axis]) continue;
    data = resampleAxis(data, shape, axis, to[axis], mode);
    shape = shape.map((d, i) => (i === axis ? to[axis] : d));
  }
  return data === src ? src.slice() : data;
}

/** Resamples one axis of a row-major tensor. */
function resampleAxis(data: Float32Array, shape: readonly number[], axis: number, outN: number, mode: UpsampleMode): Float32Array {
  const inN = shape[axis]!;
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(outer * outN * inner);
  // Per output index: two source indices and the weight of the second.
  const i0 = new Int32Array(outN);
  const i1 = new Int32Array(outN);
  const w = new Float32Array(outN);
  for (let o = 0; o < outN; o++) {
    if (mode === 'nearest') {
      i0[o] = i1[o] = Math.min(inN - 1, Math.floor((o * inN) / outN));
      continue;
    }
    const s = Math.min(inN - 1, Math.max(0, ((o + 0.5) * inN) / outN - 0.5));
    i0[o] = Math.floor(s);
    i1[o] = Math.min(inN - 1, i0[o]! + 1);
    w[o] = s - i0[o]!;
  }
  for (let a = 0; a < outer; a++) {
    const inBase = a * inN * inner;
    const outBase = a * outN * inner;
    for (let o = 0; o < outN; o++) {
      const p = inBase + i0[o]! * inner;
      const q = inBase + i1[o]! * inner;
      const wo = w[o]!;
      const dst = outBase + o * inner;
      for (let k = 0; k < inner; k++) out[dst + k] = (1 - wo) * data[p + k]! + wo * data[q + k]!;
    }
  }
  return out;
}
