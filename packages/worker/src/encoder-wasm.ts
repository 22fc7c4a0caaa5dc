import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import { WorkerError } from './errors.js';
import { faststart } from './internal/faststart.js';
import { Mutex } from './internal/mutex.js';
import { encodePng } from './internal/png.js';
import { startThread } from './internal/threads.js';
import type { WasmThreadData } from './wasm-thread.js';

export interface WasmEncoderOptions {
  /** H.264 quantiser, 10 (best) … 51. @defaultValue 22 */
  qp?: number;
  /** minih264e speed, 0 (best compression) … 10 (fastest). @defaultValue 10 */
  speed?: number;
  /** An encode running longer is stopped (its thread terminated) and fails, retryable. @defaultValue 60000 */
  timeoutMs?: number;
  /** The h264-mp4-encoder entry point. @defaultValue resolved from this package */
  modulePath?: string;
}

export interface WasmClip {
  width: number;
  height: number;
  fps: number;
  frames: number;
}

export interface WasmEncodeResult {
  /** H.264 (Baseline) MP4, yuv420p, moov first. */
  video: Buffer;
  /** PNG of the middle frame. */
  poster: Buffer;
  /** Wall seconds of this encode: frames handed to the thread until MP4 and poster are ready; its wait for the turn excluded. */
  seconds: number;
  /** Whether the WASM was already compiled and ready when this encode started. */
  warm: boolean;
}

interface Thread {
  worker: Worker;
  ready: Promise<void>;
  isReady: boolean;
  /** The one job in flight (encodes are serialized). */
  pending: { id: number; resolve: (m: { mp4: Uint8Array; ms: number }) => void; reject: (e: Error) => void } | null;
  dead: boolean;
  /** Marks the thread dead (once) and fails whoever waits on it: its start-up, its job. */
  fail: (e: Error) => void;
}

/** Even sizes only: 4:2:0 chroma is subsampled 2×2, and the encoder requires multiples of 2. */
export function wasmCanEncode(spec: WasmClip): boolean {
  return spec.width % 2 === 0 && spec.height % 2 === 0 && spec.width >= 16 && spec.height >= 16;
}

/**
 * Encodes small clips in this process with h264-mp4-encoder (minih264e compiled to WASM) instead
 * of an ffmpeg process: for a 16-frame 128×128 draft a whole ffmpeg process is ~45 ms of CPU,
 * nearly all start-up, against a few ms of actual encoding here.
 *
 * The WASM is synchronous and single-threaded, so it runs in one worker_thread per process
 * (started lazily or by {@link warm}) and encodes are serialized, one at a time, FIFO: the
 * worker's event loop (BullMQ lock renewals, Redis replies) is never blocked by an encode, and
 * a stuck encode can be stopped by terminating the thread. The thread is restarted after any
 * failure inside it. Its output (moov after mdat, as the library writes it) is rewritten to
 * faststart in memory; the poster comes from the same PNG writer as the ffmpeg path.
 */
export class WasmEncoder {
  readonly #qp: number;
  readonly #speed: number;
  readonly #timeoutMs: number;
  readonly #modulePath: string | undefined;
  readonly #turns = new Mutex();
  #thread: Thread | null = null;
  #nextId = 0;
  #closed = false;
  /** Threads in a row that died before the WASM was up. */
  #failedStarts = 0;

  constructor(options: WasmEncoderOptions = {}) {
    this.#qp = options.qp ?? 22;
    this.#speed = options.speed ?? 10;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#modulePath = options.modulePath;
  }

  /** False once the WASM has failed to start 3 times in a row (e.g. the package is missing): callers should stop sending work. */
  get usable(): boolean {
    return !this.#closed && this.#failedStarts < 3;
  }

  /** Whether the WASM thread is up and compiled. */
  get ready(): boolean {
    return this.#thread?.isReady ?? false;
  }

  /** Starts the thread and compiles the WASM now (~20–40 ms, once), so the first job does not pay for it. */
  warm(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return this.#start().ready.catch(() => undefined);
  }

  /**
   * Encodes `spec.frames` RGB24 frames (`rgb`, contiguous) to MP4 plus a PNG poster.
   * The caller checks sizes; failures are encode_failed, retryable (a crashed or stuck thread).
   */
  encode(spec: WasmClip, rgb: Uint8Array): Promise<WasmEncodeResult> {
    if (this.#closed) return Promise.reject(new WorkerError('encode_failed', 'encoder is closed', { retryable: true }));
    return this.#turns.run(async () => {
      if (this.#closed) throw new WorkerError('encode_failed', 'encoder is closed', { retryable: true });
      const t0 = performance.now();
      const thread = this.#start();
      const warm = thread.isReady;
      let mp4: Uint8Array;
      // One deadline for start-up and encode: past it the thread is terminated, which fails whichever is waiting.
      const timer = setTimeout(() => {
        void this.#kill(thread, new WorkerError('encode_failed', `wasm encode timed out after ${this.#timeoutMs} ms`, { retryable: true }));
      }, this.#timeoutMs);
      timer.unref();
      thread.worker.ref();
      try {
        await thread.ready;
        mp4 = await this.#send(thread, spec, rgb);
      } catch (err) {
        const e = err as Error;
        throw e instanceof WorkerError ? e : new WorkerError('encode_failed', `wasm encoder: ${e.message}`, { retryable: true, cause: e });
      } finally {
        clearTimeout(timer);
        thread.worker.unref();
      }
      let video: Buffer;
      try {
        video = faststart(mp4);
      } catch (err) {
        throw new WorkerError('encode_failed', `wasm encoder wrote an MP4 that cannot be made faststart: ${(err as Error).message}`, {
          retryable: true,
          cause: err,
        });
      }
      const frameBytes = spec.width * spec.height * 3;
      const mid = Math.floor((spec.frames - 1) / 2);
      const poster = encodePng(rgb.subarray(mid * frameBytes, (mid + 1) * frameBytes), spec.width, spec.height);
      return { video, poster, seconds: (performance.now() - t0) / 1000, warm };
    });
  }

  /** Stops the thread; encodes waiting for their turn fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const t = this.#thread;
    this.#thread = null;
    if (t) await this.#kill(t, new WorkerError('encode_failed', 'encoder is closed', { retryable: true }));
  }

  #send(thread: Thread, spec: WasmClip, rgb: Uint8Array): Promise<Uint8Array> {
    const id = ++this.#nextId;
    return new Promise<Uint8Array>((resolve, reject) => {
      if (thread.dead) {
        reject(new WorkerError('encode_failed', 'wasm encoder thread died', { retryable: true }));
        return;
      }
      thread.pending = { id, resolve: (m) => resolve(m.mp4), reject };
      // `rgb` is usually a view into a whole batch's output, and cloning a view copies its whole buffer: for a
      // batch of n, n times the batch. A copy of this clip alone (~0.8 MB for a draft), transferred, is one copy.
      const frames = rgb.slice();
      thread.worker.postMessage(
        { id, width: spec.width, height: spec.height, fps: spec.fps, frames: spec.frames, qp: this.#qp, speed: this.#speed, rgb: frames },
        [frames.buffer],
      );
    });
  }

  #start(): Thread {
    if (this.#thread && !this.#thread.dead) return this.#thread;
    let modulePath = this.#modulePath;
    try {
      modulePath ??= createRequire(import.meta.url).resolve('h264-mp4-encoder');
    } catch {
      modulePath = 'h264-mp4-encoder'; // not installed: the thread's require fails, and the start counts as failed
    }
    const worker = startThread('wasm-thread', { modulePath } satisfies WasmThreadData);
    let readyResolve!: () => void;
    let readyReject!: (e: Error) => void;
    const t: Thread = {
      worker,
      isReady: false,
      pending: null,
      dead: false,
      ready: new Promise<void>((resolve, reject) => {
        readyResolve = resolve;
        readyReject = reject;
      }),
      fail: (e) => {
        if (t.dead) return;
        t.dead = true;
        if (!t.isReady && !this.#closed) this.#failedStarts++;
        if (this.#thread === t) this.#thread = null;
        const err = e instanceof WorkerError ? e : new WorkerError('encode_failed', `wasm encoder thread died: ${e.message}`, { retryable: true, cause: e });
        readyReject(err);
        const p = t.pending;
        t.pending = null;
        p?.reject(err);
      },
    };
    t.ready.catch(() => undefined);
    worker.on('message', (msg: { ready?: true; id?: number; ok?: boolean; mp4?: Uint8Array; ms?: number; message?: string; fatal?: boolean }) => {
      if (msg.ready) {
        t.isReady = true;
        this.#failedStarts = 0;
        readyResolve();
        return;
      }
      const p = t.pending;
      if (!p || p.id !== msg.id) return;
      if (msg.ok) {
        t.pending = null;
        p.resolve({ mp4: msg.mp4!, ms: msg.ms! });
      } else {
        // The WASM threw or aborted: its heap may be in any state, so the thread goes and the next job gets a fresh one.
        void this.#kill(t, new WorkerError('encode_failed', `wasm encoder failed: ${msg.message}`, { retryable: true }));
      }
    });
    worker.on('error', (e) => t.fail(e));
    worker.on('exit', (code) => t.fail(new Error(`exited with ${code}`)));
    // An idle thread must not keep the process alive (after the listeners: adding one refs it again); encode() refs it while a job runs.
    worker.unref();
    this.#thread = t;
    return t;
  }

  /** Terminates a thread, failing its start-up or job with `why`; the next encode starts a fresh one. */
  async #kill(t: Thread, why: WorkerError): Promise<void> {
    t.fail(why);
    await t.worker.terminate().catch(() => undefined);
  }
}
