import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { availableParallelism, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { WasmEncoder, wasmCanEncode, type WasmEncoderOptions } from './encoder-wasm.js';
import { WorkerError } from './errors.js';
import { encodePng } from './internal/png.js';
import { Semaphore } from './internal/semaphore.js';

/** What an ffmpeg process is set up for; a warm process serves only jobs of the same spec. */
export interface EncodeSpec {
  width: number;
  height: number;
  fps: number;
  /** Frames per video. */
  frames: number;
  /** libx264 preset (the ffmpeg path; the in-process WASM path has one speed setting). @defaultValue 'veryfast' */
  preset?: 'ultrafast' | 'superfast' | 'veryfast' | 'faster' | 'fast' | 'medium';
  /**
   * Niceness of the ffmpeg process (0 normal … 19 lowest; the WASM path ignores it): finals
   * encode at a lower priority than drafts. @defaultValue 0
   */
  nice?: number;
}

export interface EncodeResult {
  /** H.264 MP4 (yuv420p, faststart). */
  video: Buffer;
  /** PNG of the middle frame. */
  poster: Buffer;
  frames: number;
  /** This video's share of the wall seconds its ffmpeg process spent (frames in to bytes out), start-up of a warm process excluded. */
  seconds: number;
  /** Whether a pre-started ffmpeg process took the job, or (WASM path) the in-process encoder was already initialized. */
  warm: boolean;
  /** How many videos that process encoded together (1 on the WASM path). */
  groupSize: number;
  /** Which encoder made it: 'wasm' in-process for small clips, 'ffmpeg' otherwise. */
  via: 'wasm' | 'ffmpeg';
}

export interface EncoderOptions {
  /** @defaultValue '/usr/bin/ffmpeg' */
  ffmpegPath?: string;
  /** Warm processes kept per spec. 0 turns the pool off. @defaultValue 1 */
  warmPerSpec?: number;
  /** Cap on warm processes across all specs; the least recently used spec gives way. @defaultValue 4 */
  maxWarm?: number;
  /**
   * ffmpeg processes that run at once; more wait their turn. A batch finishing together
   * would otherwise start as many x264s as it has videos on 2 cores: all would end late,
   * instead of the first ones early. @defaultValue the number of CPUs (at least 2)
   */
  maxConcurrent?: number;
  /** Most videos one process encodes together. @defaultValue 16 */
  maxGroup?: number;
  /** An encode running longer is killed and fails (retryable). @defaultValue 60000 */
  timeoutMs?: number;
  /** Where outputs are written before they are read back. @defaultValue a fresh dir under os.tmpdir() */
  tmpDir?: string;
  /**
   * The in-process WASM encoder for small clips (see {@link WasmEncoder}); false sends every clip to ffmpeg.
   * @defaultValue on, for width × height × frames up to {@link WASM_MAX_VOLUME}
   */
  wasm?: false | (WasmEncoderOptions & { maxVolume?: number; groupVolume?: number });
}

/**
 * A clip of up to this many pixels (width × height × frames) may go to the in-process WASM
 * encoder: 256×256×48, i.e. drafts (128², 16–32 frames) and standard (256², 24–48 frames).
 * Measured on this 2-core box (bench/encoder.mjs, one clip at a time), WASM is faster in wall
 * time through standard-4s (64 vs 76 ms warm ffmpeg) and cheaper in CPU through standard-2s; past
 * that (finals, 256² × 72–144 at 24 fps) libx264 per frame is so much cheaper than minih264e in
 * WASM (no SIMD) that it wins CPU by 1.1–1.6×, and finals stay with ffmpeg.
 */
export const WASM_MAX_VOLUME = 256 * 256 * 48;

/**
 * Videos of one spec that arrive together (a batch) share one ffmpeg process, whose start-up
 * they split; WASM pays per pixel with nothing to share. So a group goes to WASM only while its
 * total pixels stay under this (one clip under {@link WASM_MAX_VOLUME} always does): a full
 * default batch of 8 drafts of 16 frames, 4 of 32, no group of standard clips. On a quiet machine
 * one shared warm ffmpeg beats WASM from ~5 drafts up (CPU per video 4.3 vs 8.3 ms at 8,
 * bench/encoder.mjs), but under a burst, the only time batches form, its process starts cost far
 * more: drafts cost 10–11 ms of ffmpeg CPU per video across a whole 120-draft burst (bench/burst.mjs)
 * with groups over 4 sent there, against ~8 ms per clip in WASM.
 */
export const WASM_GROUP_VOLUME = 128 * 128 * 16 * 8;

interface Proc {
  child: ChildProcess;
  /** Output files are `${base}-000.mp4`, `${base}-001.mp4`, … one per video. */
  base: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; spawnError?: Error }>;
  dead: boolean;
}

interface Request {
  rgb: Uint8Array;
  resolve: (r: EncodeResult) => void;
  reject: (err: unknown) => void;
}

const STDERR_CAP = 8192;

function specKey(s: EncodeSpec): string {
  return `${s.width}x${s.height}@${s.fps}x${s.frames}:${s.preset ?? 'veryfast'}:${s.nice ?? 0}`;
}

const segmentFile = (base: string, i: number) => `${base}-${String(i).padStart(3, '0')}.mp4`;

/**
 * Encodes raw RGB frames to H.264 MP4: small clips in-process ({@link WasmEncoder}, see
 * {@link Encoder.usesWasm}), the rest with ffmpeg, frames piped to stdin.
 *
 * Most of a tiny clip's ffmpeg cost is its process: a lone 16-frame 128² draft takes ~10 ms wall
 * and ~13 ms CPU in WASM against ~24 ms wall / ~29 ms CPU with a warm ffmpeg (bench/encoder.mjs).
 * A batch of them shares one ffmpeg process instead, which is then the cheaper of the two.
 *
 * On the ffmpeg path most of a tiny clip's encode cost is the process start-up (~55 ms of CPU
 * on these machines, against a few ms of x264 work), so:
 *
 * - a warm pool keeps processes started ahead of time for the specs in use,
 *   blocked on stdin with their output paths chosen; a job pays only for
 *   writing its frames and the encode. The pool refills after each use.
 * - videos of one spec handed in together (a batch's jobs leave the engine in
 *   the same event-loop turn) share one process: their frames go in back to
 *   back and ffmpeg's segment muxer cuts one MP4 per video at forced
 *   keyframes, so a batch of 8 pays for one process start, not 8.
 */
export class Encoder {
  readonly #ffmpeg: string;
  readonly #warmPerSpec: number;
  readonly #maxWarm: number;
  readonly #maxGroup: number;
  readonly #timeoutMs: number;
  readonly #tmp: string;
  readonly #ownTmp: boolean;
  /** spec key → idle warm processes; Map order is least recently used first. */
  readonly #pool = new Map<string, Proc[]>();
  readonly #specs = new Map<string, EncodeSpec>();
  readonly #busy = new Set<Proc>();
  readonly #slots: Semaphore;
  /** Requests of this event-loop turn, by spec key, waiting to be grouped. */
  #pending = new Map<string, Request[]>();
  #scheduled = false;
  #closed = false;
  #wasmFallbacks = 0;
  readonly #wasm: WasmEncoder | null;
  readonly #wasmMax: number;
  readonly #wasmGroup: number;

  constructor(options: EncoderOptions = {}) {
    this.#ffmpeg = options.ffmpegPath ?? '/usr/bin/ffmpeg';
    this.#warmPerSpec = options.warmPerSpec ?? 1;
    this.#maxWarm = options.maxWarm ?? 4;
    this.#maxGroup = Math.max(1, options.maxGroup ?? 16);
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#slots = new Semaphore(options.maxConcurrent ?? Math.max(2, availableParallelism()));
    this.#ownTmp = options.tmpDir === undefined;
    this.#tmp = options.tmpDir ?? mkdtempSync(join(tmpdir(), 'clickvid-enc-'));
    const w = options.wasm ?? {};
    this.#wasm = w === false ? null : new WasmEncoder({ timeoutMs: this.#timeoutMs, ...w });
    this.#wasmMax = w === false ? 0 : (w.maxVolume ?? WASM_MAX_VOLUME);
    this.#wasmGroup = w === false ? 0 : (w.groupVolume ?? WASM_GROUP_VOLUME);
  }

  /**
   * Whether `count` clips of this spec arriving together are encoded in-process (WASM) rather than
   * by one shared ffmpeg process: a lone clip up to {@link WASM_MAX_VOLUME}, a group while its
   * total stays under {@link WASM_GROUP_VOLUME}.
   */
  usesWasm(spec: EncodeSpec, count = 1): boolean {
    if (this.#wasm === null || !this.#wasm.usable || !wasmCanEncode(spec)) return false;
    const volume = spec.width * spec.height * spec.frames;
    return volume <= this.#wasmMax && (count <= 1 || volume * count <= this.#wasmGroup);
  }

  /** WASM encodes that failed and were redone with ffmpeg. */
  get wasmFallbacks(): number {
    return this.#wasmFallbacks;
  }

  /** Idle warm processes, all specs. */
  get warmCount(): number {
    let n = 0;
    for (const list of this.#pool.values()) n += list.length;
    return n;
  }

  /**
   * Starts warm processes for a spec now (e.g. each tier's at worker start-up), and the WASM
   * encoder too when lone clips of the spec go there (batches of it may still go to ffmpeg).
   * Settles once the WASM is compiled (it never rejects: a WASM that cannot start is given up for ffmpeg).
   */
  prewarm(spec: EncodeSpec): Promise<void> {
    const key = specKey(spec);
    this.#specs.set(key, spec);
    this.#refill(key);
    return this.usesWasm(spec) ? this.#wasm!.warm() : Promise.resolve();
  }

  /**
   * Encodes one video, `spec.frames` frames of width × height × 3 RGB bytes (`rgb`,
   * contiguous), into an MP4, and its middle frame into a PNG poster.
   * Fails with encode_failed: retryable for a crash or timeout, not when ffmpeg cannot be started at all.
   */
  encode(spec: EncodeSpec, rgb: Uint8Array): Promise<EncodeResult> {
    if (this.#closed) return Promise.reject(new WorkerError('encode_failed', 'encoder is closed', { retryable: true }));
    const frameBytes = spec.width * spec.height * 3;
    if (!Number.isInteger(spec.frames) || spec.frames < 1 || rgb.length !== frameBytes * spec.frames) {
      return Promise.reject(
        new WorkerError('encode_failed', `got ${rgb.length} bytes for ${spec.frames} frames of ${spec.width}x${spec.height}`, { retryable: false }),
      );
    }
    const key = specKey(spec);
    this.#specs.set(key, spec);
    return new Promise<EncodeResult>((resolve, reject) => {
      const list = this.#pending.get(key) ?? [];
      list.push({ rgb, resolve, reject });
      this.#pending.set(key, list);
      if (!this.#scheduled) {
        this.#scheduled = true;
        // One turn, not a timer: the videos of a batch arrive together and need no wait to be grouped.
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Kills warm and running processes and removes the temp dir. */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [...[...this.#pool.values()].flat(), ...this.#busy];
    this.#pool.clear();
    for (const p of all) p.child.kill('SIGKILL');
    await Promise.all([...all.map((p) => p.exited), this.#wasm?.close()]);
    if (this.#ownTmp) rmSync(this.#tmp, { recursive: true, force: true });
  }

  #flush(): void {
    this.#scheduled = false;
    const pending = this.#pending;
    this.#pending = new Map();
    for (const [key, list] of pending) {
      const spec = this.#specs.get(key)!;
      for (let i = 0; i < list.length; i += this.#maxGroup) {
        const group = list.slice(i, i + this.#maxGroup);
        if (this.usesWasm(spec, group.length)) {
          for (const r of group) {
            this.#wasm!.encode(spec, r.rgb).then(
              (res) => r.resolve({ ...res, frames: spec.frames, groupSize: 1, via: 'wasm' }),
              // A WASM failure (crash, timeout, a thread that cannot start) gets one more try with ffmpeg, which
              // then settles the job as it would have anyway; the failed attempt is not metered.
              (err: unknown) => {
                if (this.#closed) r.reject(err);
                else {
                  this.#wasmFallbacks++;
                  void this.#run(key, [r]);
                }
              },
            );
          }
        } else void this.#run(key, group);
      }
    }
  }

  /** One ffmpeg process for a group of same-spec videos. Settles every request of the group. */
  async #run(key: string, group: Request[]): Promise<void> {
    const spec = this.#specs.get(key)!;
    const release = await this.#slots.acquire();
    let proc: Proc | undefined;
    try {
      if (this.#closed) throw new WorkerError('encode_failed', 'encoder is closed', { retryable: true });
      // The clock starts with the slot: a job is metered for its own encode, not for its turn.
      const t0 = performance.now();
      const idle = this.#takeWarm(key);
      proc = idle ?? this.#spawn(spec);
      const p = proc;
      this.#busy.add(p);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        p.child.kill('SIGKILL');
      }, this.#timeoutMs);
      timer.unref();
      // A dead ffmpeg closes its stdin: the writes then fail with EPIPE, and the exit status below says why.
      p.child.stdin?.on('error', () => undefined);
      for (const r of group) p.child.stdin?.write(r.rgb);
      p.child.stdin?.end();
      const res = await p.exited;
      clearTimeout(timer);
      // Refill now, not when the job took its process: a process start is ~50 ms of CPU, and on
      // 2 cores it would slow this very encode down (measured: warm p50 11 ms alone, 30 ms with
      // a start beside it). The gap until the next job hides it instead.
      this.#refill(key);
      if (res.spawnError) {
        throw new WorkerError('encode_failed', `cannot start ${this.#ffmpeg}: ${res.spawnError.message}`, {
          retryable: (res.spawnError as NodeJS.ErrnoException).code !== 'ENOENT',
          cause: res.spawnError,
        });
      }
      if (res.code !== 0) {
        const why = timedOut ? `timed out after ${this.#timeoutMs} ms` : `exited with ${res.code ?? res.signal}`;
        throw new WorkerError('encode_failed', `ffmpeg ${why}: ${res.stderr.trim().slice(-500)}`, { retryable: true });
      }
      const videos = await Promise.all(group.map((_, i) => readFile(segmentFile(p.base, i))));
      const frameBytes = spec.width * spec.height * 3;
      const mid = Math.floor((spec.frames - 1) / 2);
      const posters = group.map((r) => encodePng(r.rgb.subarray(mid * frameBytes, (mid + 1) * frameBytes), spec.width, spec.height));
      const seconds = (performance.now() - t0) / 1000 / group.length;
      group.forEach((r, i) =>
        r.resolve({ video: videos[i]!, poster: posters[i]!, frames: spec.frames, seconds, warm: idle !== undefined, groupSize: group.length, via: 'ffmpeg' }),
      );
    } catch (err) {
      const e =
        err instanceof WorkerError
          ? err
          : new WorkerError('encode_failed', `reading ffmpeg output failed: ${(err as Error).message}`, { retryable: true, cause: err });
      for (const r of group) r.reject(e);
    } finally {
      release();
      if (proc) {
        this.#busy.delete(proc);
        const base = proc.base;
        await Promise.all(group.map((_, i) => unlink(segmentFile(base, i)).catch(() => undefined)));
      }
    }
  }

  #takeWarm(key: string): Proc | undefined {
    const list = this.#pool.get(key);
    if (list === undefined) return undefined;
    // Mark the spec recently used.
    this.#pool.delete(key);
    this.#pool.set(key, list);
    while (list.length > 0) {
      const p = list.shift()!;
      if (!p.dead) return p;
    }
    return undefined;
  }

  #refill(key: string): void {
    if (this.#closed || this.#warmPerSpec <= 0) return;
    const spec = this.#specs.get(key);
    if (spec === undefined) return;
    let list = this.#pool.get(key);
    if (list === undefined) {
      list = [];
      this.#pool.set(key, list);
    } else {
      this.#pool.delete(key);
      this.#pool.set(key, list);
    }
    for (let i = list.length - 1; i >= 0; i--) if (list[i]!.dead) list.splice(i, 1);
    while (list.length < this.#warmPerSpec) {
      if (this.warmCount >= this.#maxWarm && !this.#evictOne(key)) return;
      list.push(this.#spawn(spec));
    }
  }

  /** Kills one warm process of the least recently used other spec. */
  #evictOne(except: string): boolean {
    for (const [k, list] of this.#pool) {
      if (k === except || list.length === 0) continue;
      const p = list.shift()!;
      if (list.length === 0) this.#pool.delete(k);
      p.child.kill('SIGKILL');
      return true;
    }
    return false;
  }

  #spawn(spec: EncodeSpec): Proc {
    const base = join(this.#tmp, randomBytes(8).toString('hex'));
    const f = spec.frames;
    // Small frames get one x264 thread: its thread pool costs more to start than a few 128 px
    // frames take to encode (measured warm p50 ~45 ms → ~20 ms on 2 cores). 256 px clips gain
    // ~15% from a second thread.
    const threads = spec.width * spec.height <= 160 * 160 ? 1 : 2;
    // One MP4 per video: a keyframe is forced on each video's first frame and the segment muxer
    // cuts there (boundaries listed for the largest group; unused ones cost nothing).
    const cuts = Array.from({ length: this.#maxGroup - 1 }, (_, i) => (i + 1) * f).join(',');
    // prettier-ignore
    const args = [
      '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${spec.width}x${spec.height}`, '-framerate', String(spec.fps), '-i', 'pipe:0',
      '-an', '-c:v', 'libx264', '-threads', String(threads), '-preset', spec.preset ?? 'veryfast', '-pix_fmt', 'yuv420p',
      '-force_key_frames', `expr:eq(mod(n,${f}),0)`,
      '-f', 'segment', ...(cuts ? ['-segment_frames', cuts] : []), '-reset_timestamps', '1',
      '-segment_format', 'mp4', '-segment_format_options', 'movflags=+faststart',
      `${base}-%03d.mp4`,
    ];
    const child = spawn(this.#ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    // Before it gets any frames: a warm process waits on stdin, a cold one has barely started.
    if (spec.nice && child.pid !== undefined) {
      try {
        setPriority(child.pid, spec.nice);
      } catch {
        // Not permitted (a container without CAP_SYS_NICE only forbids raising priority, so this is rare): encode at normal priority.
      }
    }
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      if (stderr.length < STDERR_CAP) stderr += d;
    });
    const proc: Proc = {
      child,
      base,
      dead: false,
      exited: new Promise((resolve) => {
        child.once('error', (spawnError) => {
          proc.dead = true;
          resolve({ code: null, signal: null, stderr, spawnError });
        });
        child.once('close', (code, signal) => {
          proc.dead = true;
          resolve({ code, signal, stderr });
        });
      }),
    };
    return proc;
  }
}
