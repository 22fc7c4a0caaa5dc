/**
 * The engine thread: onnxruntime sessions, every job's state and the step loop live here, so
 * the worker's main thread (BullMQ, Redis, storage, encoders) never blocks on inference
 * (onnxruntime-node's `session.run` is synchronous on the thread that calls it).
 *
 * The loop: ask the {@link StepScheduler} for the next unit, run it as one `session.run`, move
 * each row's job on, report, yield to the message queue (new jobs and cancels land here,
 * between units), repeat. A finished job's buffer is transferred, not copied.
 * Loaded by URL from {@link ScheduledEngine}; not imported by anything else.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { loadPipeline } from '@clickvid/core';
import type { EngineThreadOptions, FromThread, SerializedError, ThreadVariant, ToThread } from './engine-protocol.js';
import { InferenceEngine, type EngineItem } from './engine.js';
import { classifyError } from './errors.js';
import { EmbeddingCache } from './internal/embedding-cache.js';
import { PipelineJob } from './pipeline-job.js';
import { PipelineRunner } from './pipeline/runner.js';
import { ChunkedJob, StepScheduler, type Unit } from './step-scheduler.js';

/** A single-graph job: frames decoded a chunk at a time into its own output buffer. */
class GraphJob extends ChunkedJob {
  readonly frameBytes: number;
  out: Uint8Array | null = null;

  constructor(
    readonly num: number,
    lane: 'draft' | 'final',
    readonly v: ThreadVariant,
    chunk: number,
    seq: number,
    readonly item: { tokens: BigInt64Array; noise: Float32Array; times: Float32Array },
  ) {
    const frames = item.times.length;
    const frameBytes = v.width * v.height * 3;
    super(String(num), lane, v.name, frames, lane === 'draft' ? frames : Math.max(1, Math.min(chunk, frames)), frames * frameBytes, seq);
    this.frameBytes = frameBytes;
  }

  output(): Uint8Array {
    return this.out!;
  }
}

/** What the thread keeps per job besides its stage: metering. */
interface Meter {
  submittedAt: number;
  firstUnitAt: number | null;
  seconds: number;
  units: number;
  maxRows: number;
}

type Job = (GraphJob | PipelineJob) & { meter?: Meter };

const port = parentPort!;
const opts = workerData as EngineThreadOptions;
const variants = new Map<string, ThreadVariant>();
const runners = new Map<string, Promise<PipelineRunner>>();
const embeddings = new EmbeddingCache(opts.embeddingCacheBytes);
/** Measured ms per frame per (variant, frames per row), an exponential average; decides the rows per call. */
const cost = new Map<string, number>();
const meters = new Map<string, Meter>();
const engine = new InferenceEngine({
  resolveVariant: (name) => variants.get(name),
  intraOpNumThreads: opts.intraOpNumThreads,
  executionProviders: opts.executionProviders,
});
const scheduler = new StepScheduler<Job>({
  minFinalShare: opts.minFinalShare,
  maxPausedBytes: opts.maxPausedBytes,
  maxRows: (variant, lane, frames) => {
    if (!opts.rowsByCost) return opts.maxRows[lane];
    const ms = cost.get(`${variant}|${frames}`) ?? variants.get(variant)?.msPerFrame ?? Infinity;
    return Math.min(opts.maxRows[lane], Math.floor(opts.unitMs / (ms * frames)));
  },
});
let seq = 0;
let looping = false;
let closing = false;

const post = (msg: FromThread, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);
const serialize = (err: unknown): SerializedError => {
  const e = classifyError(err);
  return { code: e.code, message: e.message, retryable: e.retryable };
};

function admit(job: Job): void {
  meters.set(job.id, { submittedAt: performance.now(), firstUnitAt: null, seconds: 0, units: 0, maxRows: 0 });
  scheduler.add(job);
  void loop();
}

/** One runner per pipeline model, loaded on its first job (a sha256 mismatch fails that job). */
function runner(modelsDir: string, model: string): Promise<PipelineRunner> {
  const key = path.resolve(modelsDir, model);
  let p = runners.get(key);
  if (p === undefined) {
    p = Promise.resolve().then(() => PipelineRunner.load(loadPipeline(modelsDir, model), { intraOpNumThreads: opts.intraOpNumThreads }));
    runners.set(key, p);
    p.catch(() => runners.delete(key));
  }
  return p;
}

port.on('message', (msg: ToThread) => {
  switch (msg.type) {
    case 'warm':
      variants.set(msg.variant.name, msg.variant);
      engine.warm(msg.variant.name).then(
        () => post({ type: 'warmed', id: msg.id }),
        (err: unknown) => post({ type: 'failed', id: msg.id, error: serialize(err) }),
      );
      return;
    case 'warm-pipeline':
      runner(msg.modelsDir, msg.model).then(
        () => post({ type: 'warmed', id: msg.id }),
        (err: unknown) => post({ type: 'failed', id: msg.id, error: serialize(err) }),
      );
      return;
    case 'render':
      variants.set(msg.variant.name, msg.variant);
      admit(new GraphJob(msg.id, msg.lane, msg.variant, msg.chunk, seq++, { tokens: msg.tokens, noise: msg.noise, times: msg.times }));
      return;
    case 'render-pipeline': {
      const order = seq++;
      runner(msg.modelsDir, msg.model)
        .then((r) => {
          const te = r.pipeline.textEncoder?.variants.values().next().value;
          const cacheKey = `${te?.sha256 ?? 'none'}|${r.pipeline.tokenizer.type}|${r.tokenize(msg.prompt).join(',')}`;
          admit(new PipelineJob(String(msg.id), msg.lane, order, r, msg.quality, msg.prompt, msg.seed, msg.frames, cacheKey, embeddings.get(cacheKey), opts.unitMs, msg.start));
        })
        .catch((err: unknown) => post({ type: 'failed', id: msg.id, error: serialize(err) }));
      return;
    }
    case 'cancel':
      // Between units, by construction: this handler runs only while the loop yields.
      if (scheduler.remove(String(msg.id))) {
        meters.delete(String(msg.id));
        post({ type: 'canceled', id: msg.id });
      }
      return;
    case 'close':
      closing = true;
      if (!looping) void shutdown();
      return;
  }
});

async function loop(): Promise<void> {
  if (looping) return;
  looping = true;
  try {
    for (;;) {
      // Let queued messages in first: a draft that arrived during the last unit is scheduled before the next one.
      await new Promise<void>((r) => setImmediate(r));
      const unit = scheduler.next();
      if (unit === undefined) break;
      await runUnit(unit);
    }
  } finally {
    looping = false;
    if (closing) void shutdown();
  }
}

/** A pipeline job's stage as a unit's stage name (read before the unit runs: running advances it). */
const STAGES = { encode: 'text_encode', step: 'denoise', decode: 'decode', done: 'decode' } as const;

async function runUnit(unit: Unit<Job>): Promise<void> {
  const t0 = performance.now();
  const lead = unit.rows[0]!;
  const stage = lead instanceof PipelineJob ? STAGES[lead.stage] : 'decode';
  for (const j of unit.rows) {
    const m = meters.get(j.id);
    if (m) m.firstUnitAt ??= t0;
  }
  try {
    if (unit.rows[0] instanceof PipelineJob) await PipelineJob.run(unit.rows as PipelineJob[], embeddings);
    else await runGraph(unit.rows as GraphJob[], unit.frames);
  } catch (err) {
    const error = serialize(err);
    for (const j of unit.rows) if (scheduler.remove(j.id)) post({ type: 'failed', id: Number(j.id), error });
    return;
  }
  const seconds = (performance.now() - t0) / 1000;
  const perFrame = (seconds * 1000) / (unit.frames * unit.rows.length);
  const key = `${unit.variant}|${unit.frames}`;
  const prev = cost.get(key);
  cost.set(key, prev === undefined ? perFrame : 0.8 * prev + 0.2 * perFrame);

  for (const j of unit.rows) {
    const m = meters.get(j.id);
    if (!m) continue; // canceled while the unit ran
    // Each row pays an equal share: every row of a call has the same shape.
    m.seconds += seconds / unit.rows.length;
    m.units++;
    m.maxRows = Math.max(m.maxRows, unit.rows.length);
  }
  const complete = scheduler.finish(unit, seconds);
  const progress: [number, number][] = [];
  for (const j of unit.rows) if (scheduler.has(j.id) && j.next !== null) progress.push([Number(j.id), fraction(j)]);
  const unitReport = {
    lane: unit.lane, ids: unit.rows.map((j) => Number(j.id)), stage, startedAt: performance.timeOrigin + t0,
    key: unit.key, variant: unit.variant, rows: unit.rows.length, frames: unit.frames, seconds,
  };
  post({ type: 'unit', unit: unitReport, progress });
  for (const j of complete) {
    scheduler.remove(j.id);
    const m = meters.get(j.id)!;
    meters.delete(j.id);
    const out = j.output();
    const video = out.buffer as ArrayBuffer;
    const clip = j instanceof PipelineJob ? j.clip : { width: j.v.width, height: j.v.height, frames: j.frames };
    // A pipeline job's latents go back too (its own array: the last step wrote a new one), for a later promotion.
    const latents = j instanceof PipelineJob ? (j.latents.buffer as ArrayBuffer) : undefined;
    post(
      {
        type: 'done', id: Number(j.id), video, width: clip.width, height: clip.height, frames: clip.frames,
        seconds: m.seconds, units: m.units, maxRows: m.maxRows, waitSeconds: ((m.firstUnitAt ?? t0) - m.submittedAt) / 1000,
        ...(latents ? { latents } : {}),
      },
      latents ? [video, latents] : [video],
    );
  }
}

/** One call of the single graph: every row's next piece of frames, padded to the call's length. */
async function runGraph(rows: GraphJob[], frames: number): Promise<void> {
  const items: EngineItem[] = rows.map((j) => {
    const { from, count } = j.piece;
    return { tokens: j.item.tokens, noise: j.item.noise, times: pieceTimes(j.item.times, from, count, frames) };
  });
  const res = await engine.run(rows[0]!.variant, items);
  rows.forEach((j, i) => {
    if (!scheduler.has(j.id)) return; // canceled while the unit ran
    const { from, count } = j.piece;
    j.out ??= new Uint8Array(j.frames * j.frameBytes);
    j.out.set(res.videos[i]!.subarray(0, count * j.frameBytes), from * j.frameBytes);
    j.advance();
  });
}

/** How far a job is, 0..1: frames decoded, or for a pipeline its encode, steps and decode chunks. */
function fraction(j: Job): number {
  if (j instanceof GraphJob) return j.done / j.frames;
  const steps = j.state.timesteps.length;
  const total = 1 + steps + j.clip.decodeFrames;
  return ((j.embedding ? 1 : 0) + j.state.index + j.decodeAt) / total;
}

/** The times of frames [from, from + count), padded to `frames` with the last one (its output is dropped). */
function pieceTimes(times: Float32Array, from: number, count: number, frames: number): Float32Array {
  if (from === 0 && count === times.length && frames === count) return times;
  const out = new Float32Array(frames);
  out.set(times.subarray(from, from + count));
  out.fill(times[from + count - 1]!, count);
  return out;
}

async function shutdown(): Promise<void> {
  await engine.close();
  for (const r of runners.values()) await (await r.catch(() => null))?.close();
  post({ type: 'closed' });
  port.close();
}
