import type { PipelineTensor } from '@clickvid/core';
import * as ort from 'onnxruntime-node';
import { WorkerError } from '../errors.js';

/** Rows of equal length, concatenated along a new leading batch axis. */
export function stackRows<T extends Float32Array | BigInt64Array>(rows: readonly T[], make: (n: number) => T): T {
  const n = rows[0]!.length;
  const out = make(rows.length * n);
  rows.forEach((r, i) => {
    if (r.length !== n) throw new WorkerError('internal_error', `rows differ in length (${r.length} ≠ ${n})`, { retryable: false });
    (out as Float32Array).set(r as Float32Array, i * n); // same element type by construction
  });
  return out;
}

/** A float input as the manifest types it; float32 and int64 are what a CPU export takes. */
export function numericTensor(spec: PipelineTensor, values: readonly number[] | Float32Array, dims: readonly number[]): ort.Tensor {
  if (spec.dtype === 'float32') return new ort.Tensor('float32', Float32Array.from(values), dims);
  if (spec.dtype === 'int64') return new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(Math.round(v))), dims);
  throw new WorkerError('model_unavailable', `input ${spec.name}: dtype ${spec.dtype} is not supported on the CPU path`, { retryable: false });
}

/** The output's data as float32, checked against the element count the caller expects. */
export function floatOutput(out: ort.InferenceSession.OnnxValueMapType, spec: PipelineTensor, elements: number): Float32Array {
  const t = out[spec.name];
  if (t === undefined || t.type !== 'float32') {
    throw new WorkerError('inference_failed', `output ${spec.name}: missing or not float32`, { retryable: false });
  }
  const data = t.data as Float32Array;
  if (data.length !== elements) {
    throw new WorkerError('inference_failed', `output ${spec.name}: dims [${t.dims.join(',')}] hold ${data.length} values, expected ${elements}`, {
      retryable: false,
    });
  }
  return data;
}

/**
 * Latent frames [start, end) of one row's latents laid out [channels, frames, h, w]: the
 * piece of the row a frame-chunked decode takes.
 */
export function sliceFrames(latents: Float32Array, shape: readonly [number, number, number, number], start: number, end: number): Float32Array {
  const [c, f, h, w] = shape;
  const plane = h * w;
  const out = new Float32Array(c * (end - start) * plane);
  for (let ch = 0; ch < c; ch++) out.set(latents.subarray((ch * f + start) * plane, (ch * f + end) * plane), ch * (end - start) * plane);
  return out;
}

/**
 * One row of decoder output, [3, frames, H, W] floats in `range`, as RGB bytes [frames, H, W, 3]
 * (diffusers' VideoProcessor: scale to [0, 1], clamp, ×255, round), from frame `skip` on.
 */
export function rgbBytes(data: Float32Array, offset: number, frames: number, height: number, width: number, range: readonly [number, number], skip: number): Uint8Array {
  const [lo, hi] = range;
  const plane = height * width;
  const kept = frames - skip;
  const out = new Uint8Array(kept * plane * 3);
  for (let ch = 0; ch < 3; ch++) {
    for (let f = skip; f < frames; f++) {
      const src = offset + (ch * frames + f) * plane;
      const dst = (f - skip) * plane * 3 + ch;
      for (let p = 0; p < plane; p++) {
        const v = (data[src + p]! - lo) / (hi - lo);
        out[dst + p * 3] = Math.round(255 * (v < 0 ? 0 : v > 1 ? 1 : v));
      }
    }
  }
  return out;
}
