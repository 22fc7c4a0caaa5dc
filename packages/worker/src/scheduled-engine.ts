import type { Worker } from 'node:worker_threads';
import type { ErrorCode } from '@clickvid/contracts';
import type { Tracer, TraceParent } from '@clickvid/core';
import type { EngineThreadOptions, FromThread, PipelineRenderRequest, ThreadVariant, ToThread, UnitReport } from './engine-protocol.js';

export type { PipelineRenderRequest };
import type { VariantFile } from './engine.js';
import { WorkerError } from './errors.js';
import { startThread } from './internal/threads.js';
import { framesPerUnit, type UnitLane } from './step-scheduler.js';

export interface ScheduledEngineOptions {
  /** Looks a variant up by name, with its cost per frame (ms, batch 1) from the manifest. */
  resolveVariant: (name: string) => (VariantFile & { msPerFrame: number }) | undefined;
  /** @defaultValue 2 */
  intraOpNumThreads?: number;
  /** @defaultValue ['cpu'] */
  executionProviders?: string[];
  /**
   * Target wall ms of one uninterruptible unit: a draft waits at most about this long for the
   * engine. A final's frames per unit are chosen from it and the manifest's cost per frame
   * (fixed per variant: the output must not depend on timing). @defaultValue 30
   */
  unitMs?: number;
  /** Share of the engine time finals keep while drafts stream in. @defaultValue 0.25 */
  minFinalShare?: number;
  /** Bytes of output that started, unfinished jobs may hold. @defaultValue 256 MiB */
  maxPausedBytes?: number;
  /** Most rows per call, per lane. @defaultValue draft 8, final 4 */
  maxRows?: Record<UnitLane, number>;
  /**
   * Whether the rows per call are capped by the measured cost so that a call stays within
   * `unitMs` (only the lane's max batch caps them otherwise). @defaultValue true
   */
  rowsByCost?: boolean;
  /** Bytes of text embeddings the engine keeps (pipeline models). @defaultValue 16 MiB */
  embeddingCacheBytes?: number;
  /** Called after every unit (e.g. metrics). */
  onUnit?: (unit: UnitReport) => void;
  /**
   * Spans of every unit, one per job in it (a child of the job's `trace`), linked to the other
   * jobs of the call. Off (and free) unless the tracer is enabled.
   */
  tracer?: Tracer;
}

export interface RenderRequest {
  lane: UnitLane;
  variant: string;
  tokens: BigInt64Array;
  noise: Float32Array;
  /** One per frame. */
  times: Float32Array;
}

export interface RenderControl {
  /** Fraction of the frames done, after each unit but the last. */
  onProgress?: (fraction: number) => void;
  /** Aborting drops the job at the next unit boundary; render() then rejects with {@link RenderCanceled}. */
  signal?: AbortSignal;
  /** The span the job's unit spans are children of (its inference span), when tracing. */
  trace?: TraceParent | null;
}

export interface RenderShare {
  /** frames × height × width × 3 RGB bytes, the job's own buffer. */
  output: Uint8Array;
  frames: number;
  width: number;
  height: number;
  /** This job's share of every call it was in (its rows' part of each call's wall time). */
  inferenceSeconds: number;
  /** Units (calls) it was in. */
  units: number;
  /** Most rows of a call it was in. */
  batchSize: number;
  /** Seconds from submit to its first unit. */
  waitSeconds: number;
  /** A pipeline job's final latents [channels, frames, h, w]: what a job promoted from it starts from. */
  latents?: Float32Array;
}

/** render() of a job whose signal aborted: it left the engine at a unit boundary. */
export class RenderCanceled extends Error {
  constructor() {
    super('render canceled');
    this.name = 'RenderCanceled';
  }
}

interface Pending {
  resolve: (v: RenderShare | undefined) => void;
  reject: (e: unknown) => void;
  onProgress?: (fraction: number) => void;
  trace?: TraceParent;
}

/**
 * The worker's one engine: a handle on the engine thread (engine-thread.ts), where the
 * sessions, the jobs' state and the preemptive step loop run. Jobs of both lanes go to the same
 * thread, so there is one copy of every model and one place that decides what runs next
 * (see {@link StepScheduler}). A thread that dies fails its jobs (retryable) and is started
 * again by the next call.
 */
export class ScheduledEngine {
  readonly #opts: ScheduledEngineOptions;
  readonly #threadOptions: EngineThreadOptions;
  readonly #pending = new Map<number, Pending>();
  #thread: Worker | null = null;
  #nextId = 1;
  #closed: Promise<void> | null = null;

  constructor(options: ScheduledEngineOptions) {
    this.#opts = options;
    this.#threadOptions = {
      intraOpNumThreads: options.intraOpNumThreads ?? 2,
      executionProviders: options.executionProviders ?? ['cpu'],
      unitMs: options.unitMs ?? 30,
      minFinalShare: options.minFinalShare ?? 0.25,
      maxPausedBytes: options.maxPausedBytes ?? 256 * 2 ** 20,
      maxRows: options.maxRows ?? { draft: 8, final: 4 },
      rowsByCost: options.rowsByCost ?? true,
      embeddingCacheBytes: options.embeddingCacheBytes ?? 16 * 2 ** 20,
    };
  }

  /** Jobs in the engine (queued for a unit or between units). */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Verifies (sha256) and loads a variant now, instead of on its first job. */
  async warm(variantName: string): Promise<void> {
    const variant = this.#variant(variantName);
    const id = this.#nextId++;
    await new Promise<RenderShare | undefined>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#send({ type: 'warm', id, variant });
    });
  }

  /** Verifies (sha256) and loads every component of a pipeline-form model now, instead of on its first job. */
  async warmPipeline(modelsDir: string, model: string): Promise<void> {
    const id = this.#nextId++;
    await new Promise<RenderShare | undefined>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#send({ type: 'warm-pipeline', id, modelsDir, model });
    });
  }

  /**
   * Frames per unit for a final of this variant: as many as fit in the unit budget at the
   * manifest's cost per frame, rounded down to the frame quantum (at least one quantum).
   */
  chunkFrames(variantName: string): number {
    return framesPerUnit(this.#threadOptions.unitMs, this.#variant(variantName).msPerFrame);
  }

  /** Renders one video through the step scheduler. */
  render(req: RenderRequest, control: RenderControl = {}): Promise<RenderShare> {
    if (this.#closed) return Promise.reject(new WorkerError('inference_failed', 'engine is closed', { retryable: true }));
    let variant: ThreadVariant;
    try {
      variant = this.#variant(req.variant);
    } catch (err) {
      return Promise.reject(err);
    }
    const chunk = this.chunkFrames(req.variant);
    return this.#submit(control, (id) => ({
      type: 'render', id, lane: req.lane, variant, chunk, tokens: req.tokens, noise: req.noise, times: req.times,
    }));
  }

  #submit(control: RenderControl, message: (id: number) => ToThread): Promise<RenderShare> {
    const { signal } = control;
    if (signal?.aborted) return Promise.reject(new RenderCanceled());
    const id = this.#nextId++;
    return new Promise<RenderShare>((resolve, reject) => {
      const onAbort = () => this.#send({ type: 'cancel', id });
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = () => signal?.removeEventListener('abort', onAbort);
      this.#pending.set(id, {
        resolve: (v) => {
          settle();
          resolve(v!);
        },
        reject: (e) => {
          settle();
          reject(e);
        },
        ...(control.onProgress ? { onProgress: control.onProgress } : {}),
        ...(control.trace ? { trace: control.trace } : {}),
      });
      this.#send(message(id));
    });
  }

  /**
   * Renders one job of a pipeline-form model (models/<model>/manifest.json with `"format":
   * "pipeline"`) through the same step scheduler: the thread tokenizes, encodes (embeddings
   * cached), takes one denoiser step per unit and decodes a chunk of latent frames per unit.
   */
  renderPipeline(req: PipelineRenderRequest, control: RenderControl = {}): Promise<RenderShare> {
    if (this.#closed) return Promise.reject(new WorkerError('inference_failed', 'engine is closed', { retryable: true }));
    return this.#submit(control, (id) => ({ type: 'render-pipeline', id, ...req }));
  }

  /** Lets the jobs in the engine finish, then stops the thread and releases the sessions. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      const t = this.#thread;
      if (t === null) return;
      await new Promise<void>((resolve) => {
        t.once('exit', () => resolve());
        t.postMessage({ type: 'close' } satisfies ToThread);
      });
    })();
    return this.#closed;
  }

  #variant(name: string): ThreadVariant {
    let v: (VariantFile & { msPerFrame: number }) | undefined;
    try {
      v = this.#opts.resolveVariant(name);
    } catch (err) {
      throw new WorkerError('model_unavailable', `unknown model variant ${name}: ${(err as Error).message}`, { retryable: false, cause: err });
    }
    if (v === undefined) throw new WorkerError('model_unavailable', `unknown model variant ${name}`, { retryable: false });
    return { name: v.name, path: v.path, sha256: v.sha256, width: v.width, height: v.height, msPerFrame: v.msPerFrame };
  }

  /**
   * One span per traced job of the call, recorded after the fact from the thread's timings: a
   * child of that job's inference span, linked to the other jobs of the batch.
   */
  #traceUnit(tracer: Tracer, unit: UnitReport): void {
    const traces = unit.ids.map((id) => this.#pending.get(id)?.trace);
    const end = unit.startedAt + unit.seconds * 1000;
    traces.forEach((parent, i) => {
      if (!parent) return;
      const links = traces.filter((t, j): t is TraceParent => j !== i && t !== undefined);
      tracer
        .start(`engine.${unit.stage}`, {
          parent, links, startTime: unit.startedAt,
          attributes: { 'clickvid.lane': unit.lane, 'clickvid.variant': unit.variant, 'clickvid.batch_size': unit.rows, 'clickvid.frames': unit.frames },
        })
        .end(end);
    });
  }

  #send(msg: ToThread): void {
    this.#start().postMessage(msg);
  }

  #start(): Worker {
    if (this.#thread) return this.#thread;
    const t = startThread('engine-thread', this.#threadOptions);
    t.on('message', (msg: FromThread) => this.#onMessage(msg));
    const fail = (why: string) => {
      if (this.#thread === t) this.#thread = null;
      const err = new WorkerError('inference_failed', `engine thread ${why}`, { retryable: true });
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    };
    t.on('error', (e) => fail(`failed: ${e.message}`));
    t.on('exit', (code) => fail(`exited with ${code}`));
    this.#thread = t;
    return t;
  }

  #onMessage(msg: FromThread): void {
    switch (msg.type) {
      case 'unit':
        this.#opts.onUnit?.(msg.unit);
        if (this.#opts.tracer?.enabled) this.#traceUnit(this.#opts.tracer, msg.unit);
        for (const [id, fraction] of msg.progress) this.#pending.get(id)?.onProgress?.(fraction);
        return;
      case 'closed':
        return;
    }
    const p = this.#pending.get(msg.id);
    if (!p) return;
    this.#pending.delete(msg.id);
    switch (msg.type) {
      case 'warmed':
        p.resolve(undefined);
        return;
      case 'failed':
        p.reject(new WorkerError(msg.error.code as ErrorCode, msg.error.message, { retryable: msg.error.retryable }));
        return;
      case 'canceled':
        p.reject(new RenderCanceled());
        return;
      case 'done':
        p.resolve({
          output: new Uint8Array(msg.video), frames: msg.frames, width: msg.width, height: msg.height,
          inferenceSeconds: msg.seconds, units: msg.units, batchSize: msg.maxRows, waitSeconds: msg.waitSeconds,
          ...(msg.latents ? { latents: new Float32Array(msg.latents) } : {}),
        });
        return;
    }
  }
}
