import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { WorkerError } from './errors.js';
import { Mutex } from './internal/mutex.js';

/** What the engine needs to know about one model variant (from the manifest). */
export interface VariantFile {
  name: string;
  /** Absolute path of the .onnx file. */
  path: string;
  /** Hex sha256 the manifest promises; the file is refused when it differs. */
  sha256: string;
  width: number;
  height: number;
}

/** One video's inputs. Every item of a batch has the same token length, noise dim and frame count. */
export interface EngineItem {
  /** int64 token ids, length = manifest text.max_tokens. */
  tokens: BigInt64Array;
  /** float32 noise, length = manifest noise.dim. */
  noise: Float32Array;
  /** float32 times, length = frames; times[i] = i / (frames - 1). */
  times: Float32Array;
}

export interface EngineResult {
  /** Per item: frames × height × width × 3 RGB bytes, a view into the batch's output (no copy). */
  videos: Uint8Array[];
  frames: number;
  width: number;
  height: number;
  /** Wall seconds of the one session.run that made the whole batch. */
  seconds: number;
}

export interface InferenceEngineOptions {
  /** Looks a variant up by name; throw (or return undefined) for an unknown one. */
  resolveVariant: (name: string) => VariantFile | undefined;
  /** @defaultValue 2 */
  intraOpNumThreads?: number;
  /** onnxruntime execution providers, in order of preference. @defaultValue ['cpu'] */
  executionProviders?: string[];
}

interface Loaded {
  session: ort.InferenceSession;
  variant: VariantFile;
}

/**
 * Fails unless this onnxruntime build knows every named execution provider. One it knows but
 * whose libraries are missing (CUDA without its install script) fails at session creation instead,
 * with the providers named in the message.
 */
export function checkExecutionProviders(names: readonly string[]): void {
  const known = new Set(ort.listSupportedBackends().map((b) => b.name));
  const missing = names.filter((n) => !known.has(n));
  if (missing.length > 0) {
    throw new WorkerError('model_unavailable', `execution provider ${missing.join(', ')} is not available in this onnxruntime build (it has ${[...known].join(', ')})`, {
      retryable: false,
    });
  }
}

/** Hex sha256 of a file, streamed so a large model never sits in memory twice. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * One onnxruntime session per variant, created on first use after the file's
 * sha256 matched the manifest; one session.run at a time per process, since
 * the intra-op threads already use the cores and two runs would only fight
 * for them.
 */
export class InferenceEngine {
  readonly #opts: Required<InferenceEngineOptions>;
  readonly #sessions = new Map<string, Promise<Loaded>>();
  readonly #mutex = new Mutex();
  #closed = false;

  constructor(options: InferenceEngineOptions) {
    this.#opts = { intraOpNumThreads: 2, executionProviders: ['cpu'], ...options };
  }

  /** Verifies and loads a variant now (at start-up) instead of on the first job. */
  async warm(variantName: string): Promise<void> {
    await this.#load(variantName);
  }

  /** Runs one batch: the items' inputs are concatenated along the batch axis and run in ONE session.run. */
  async run(variantName: string, items: readonly EngineItem[]): Promise<EngineResult> {
    if (items.length === 0) throw new WorkerError('internal_error', 'empty batch', { retryable: false });
    const { session, variant } = await this.#load(variantName);
    const feeds = batchFeeds(items);
    const frames = items[0]!.times.length;
    return this.#mutex.run(async () => {
      if (this.#closed) throw new WorkerError('inference_failed', 'engine is closed', { retryable: true });
      const t0 = performance.now();
      let out: ort.InferenceSession.OnnxValueMapType;
      try {
        out = await session.run(feeds);
      } catch (err) {
        throw new WorkerError('inference_failed', `session.run failed for ${variantName}: ${(err as Error).message}`, {
          retryable: true,
          cause: err,
        });
      }
      const seconds = (performance.now() - t0) / 1000;
      const video = out['video'] ?? Object.values(out)[0];
      if (video === undefined || video.type !== 'uint8') {
        throw new WorkerError('inference_failed', `model ${variantName} gave no uint8 "video" output`, { retryable: false });
      }
      const [b, f, h, w, c] = video.dims;
      if (b !== items.length || f !== frames || h !== variant.height || w !== variant.width || c !== 3) {
        throw new WorkerError(
          'inference_failed',
          `model ${variantName} output dims [${video.dims.join(',')}] ≠ [${items.length},${frames},${variant.height},${variant.width},3]`,
          { retryable: false },
        );
      }
      const data = video.data as Uint8Array;
      const per = frames * variant.height * variant.width * 3;
      const videos = items.map((_, i) => data.subarray(i * per, (i + 1) * per));
      return { videos, frames, width: variant.width, height: variant.height, seconds };
    });
  }

  /** Releases every session; runs still queued fail with inference_failed. */
  async close(): Promise<void> {
    this.#closed = true;
    const loaded = [...this.#sessions.values()];
    this.#sessions.clear();
    // Wait for the run in flight, so a session is never released under it.
    await this.#mutex.run(async () => undefined);
    for (const p of loaded) {
      const l = await p.catch(() => undefined);
      await l?.session.release();
    }
  }

  #load(name: string): Promise<Loaded> {
    let p = this.#sessions.get(name);
    if (p === undefined) {
      p = this.#create(name);
      this.#sessions.set(name, p);
      // A failed load is not cached: the file may be fixed (or the disk come back) before the next attempt.
      p.catch(() => this.#sessions.delete(name));
    }
    return p;
  }

  async #create(name: string): Promise<Loaded> {
    let variant: VariantFile | undefined;
    try {
      variant = this.#opts.resolveVariant(name);
    } catch (err) {
      throw new WorkerError('model_unavailable', `unknown model variant ${name}: ${(err as Error).message}`, { retryable: false, cause: err });
    }
    if (variant === undefined) throw new WorkerError('model_unavailable', `unknown model variant ${name}`, { retryable: false });
    let actual: string;
    try {
      actual = await sha256File(variant.path);
    } catch (err) {
      throw new WorkerError('model_unavailable', `model file ${variant.path} cannot be read: ${(err as Error).message}`, {
        retryable: false,
        cause: err,
      });
    }
    if (actual !== variant.sha256.toLowerCase()) {
      throw new WorkerError('model_unavailable', `model file ${variant.path} has sha256 ${actual}, manifest says ${variant.sha256}`, {
        retryable: false,
      });
    }
    checkExecutionProviders(this.#opts.executionProviders);
    try {
      const session = await ort.InferenceSession.create(variant.path, {
        executionProviders: this.#opts.executionProviders,
        intraOpNumThreads: this.#opts.intraOpNumThreads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        // Errors only: warnings (e.g. an unused initializer the int8 rewrite left behind) are noise in the worker log.
        logSeverityLevel: 3,
        // No spin-waiting after a run: by default the intra-op threads spin ~15 ms of CPU after each
        // session.run (measured), exactly when this job's ffmpeg wants those 2 cores.
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
      return { session, variant };
    } catch (err) {
      const eps = this.#opts.executionProviders.join(',');
      const with_ = eps === 'cpu' ? '' : ` with execution providers ${eps}`;
      throw new WorkerError('model_unavailable', `onnxruntime cannot load ${variant.path}${with_}: ${(err as Error).message}`, {
        retryable: false,
        cause: err,
      });
    }
  }
}

/** Concatenates the items' inputs along the batch axis. */
function batchFeeds(items: readonly EngineItem[]): Record<string, ort.Tensor> {
  const first = items[0]!;
  const t = first.tokens.length;
  const d = first.noise.length;
  const f = first.times.length;
  const n = items.length;
  for (const it of items) {
    if (it.tokens.length !== t || it.noise.length !== d || it.times.length !== f) {
      throw new WorkerError('internal_error', 'batch items differ in token length, noise dim or frame count', { retryable: false });
    }
  }
  if (n === 1) {
    // No copy for a batch of one: the tensors wrap the item's own arrays.
    return {
      tokens: new ort.Tensor('int64', first.tokens, [1, t]),
      noise: new ort.Tensor('float32', first.noise, [1, d]),
      times: new ort.Tensor('float32', first.times, [1, f]),
    };
  }
  const tokens = new BigInt64Array(n * t);
  const noise = new Float32Array(n * d);
  const times = new Float32Array(n * f);
  items.forEach((it, i) => {
    tokens.set(it.tokens, i * t);
    noise.set(it.noise, i * d);
    times.set(it.times, i * f);
  });
  return {
    tokens: new ort.Tensor('int64', tokens, [n, t]),
    noise: new ort.Tensor('float32', noise, [n, d]),
    times: new ort.Tensor('float32', times, [n, f]),
  };
}
