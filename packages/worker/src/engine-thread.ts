/**
 * The engine thread: onnxruntime sessions, every job's state and the step loop live here, so
 * the worker's main thread (BullMQ, Redis, storage, encoders) never blocks on inference
 * (onnxruntime-node's `session.run` is synchronous on the thread that calls it).
 *
 * The loop: ask the {@link StepScheduler} for the next unit, run it as one `session.run`, copy
 * each row's frames into its job's buffer, report, yield to the message queue (new jobs and
 * cancels land here, between units), repeat. A finished job's buffer is transferred, not copied.
 * Loaded by URL from {@link ScheduledEngine}; not imported by anything else.
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import type { EngineThreadOptions, FromThread, SerializedError, ThreadVariant, ToThread } from './engine-protocol.js';
import { InferenceEngine, type EngineItem } from './engine.js';
import { classifyError } from './errors.js';
import { StepScheduler, type ScheduledJob, type Unit } from './step-scheduler.js';

interface ThreadJob extends ScheduledJob {
  readonly num: number;
  readonly item: { tokens: BigInt64Array; noise: Float32Array; times: Float32Array };
  readonly frameBytes: number;
  readonly width: number;
  readonly height: number;
  readonly submittedAt: number;
  out: Uint8Array | null;
  seconds: number;
  units: number;
  maxRows: number;
  firstUnitAt: number | null;
}

const port = parentPort!;
const opts = workerData as EngineThreadOptions;
const variants = new Map<string, ThreadVariant>();
/** Measured ms per frame per (variant, frames per row), an exponential average; decides the rows per call. */
const cost = new Map<string, number>();
const engine = new InferenceEngine({
  resolveVariant: (name) => variants.get(name),
  intraOpNumThreads: opts.intraOpNumThreads,
  executionProviders: opts.executionProviders,
});
const scheduler = new StepScheduler({
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

port.on('message', (msg: ToThread) => {
  switch (msg.type) {
    case 'warm':
      variants.set(msg.variant.name, msg.variant);
      engine.warm(msg.variant.name).then(
        () => post({ type: 'warmed', id: msg.id }),
        (err: unknown) => post({ type: 'failed', id: msg.id, error: serialize(err) }),
      );
      return;
    case 'render': {
      variants.set(msg.variant.name, msg.variant);
      const frames = msg.times.length;
      const frameBytes = msg.variant.width * msg.variant.height * 3;
      const job: ThreadJob = {
        id: String(msg.id), num: msg.id, lane: msg.lane, variant: msg.variant.name, frames,
        chunk: msg.lane === 'draft' ? frames : Math.max(1, Math.min(msg.chunk, frames)),
        bytes: frames * frameBytes, seq: seq++, done: 0, started: false,
        item: { tokens: msg.tokens, noise: msg.noise, times: msg.times },
        frameBytes, width: msg.variant.width, height: msg.variant.height,
        submittedAt: performance.now(), out: null, seconds: 0, units: 0, maxRows: 0, firstUnitAt: null,
      };
      scheduler.add(job);
      void loop();
      return;
    }
    case 'cancel':
      // Between units, by construction: this handler runs only while the loop yields.
      if (scheduler.remove(String(msg.id))) post({ type: 'canceled', id: msg.id });
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

async function runUnit(unit: Unit): Promise<void> {
  const jobs = unit.rows.map((r) => r.job as ThreadJob);
  const items: EngineItem[] = unit.rows.map((r, i) => {
    const j = jobs[i]!;
    return { tokens: j.item.tokens, noise: j.item.noise, times: pieceTimes(j.item.times, r.from, r.count, unit.frames) };
  });
  const t0 = performance.now();
  for (const j of jobs) j.firstUnitAt ??= t0;
  let res;
  try {
    res = await engine.run(unit.variant, items);
  } catch (err) {
    const error = serialize(err);
    for (const j of jobs) if (scheduler.remove(j.id)) post({ type: 'failed', id: j.num, error });
    return;
  }
  const seconds = res.seconds;
  const perFrame = (seconds * 1000) / (unit.frames * unit.rows.length);
  const key = `${unit.variant}|${unit.frames}`;
  const prev = cost.get(key);
  cost.set(key, prev === undefined ? perFrame : 0.8 * prev + 0.2 * perFrame);

  unit.rows.forEach((r, i) => {
    const j = jobs[i]!;
    if (!scheduler.has(j.id)) return; // canceled while the unit ran
    j.out ??= new Uint8Array(j.frames * j.frameBytes);
    const kept = res.videos[i]!.subarray(0, r.count * j.frameBytes);
    j.out.set(kept, r.from * j.frameBytes);
    // Each row pays an equal share: every row of a call has the same frames.
    j.seconds += seconds / unit.rows.length;
    j.units++;
    j.maxRows = Math.max(j.maxRows, unit.rows.length);
  });
  const complete = scheduler.finish(unit, seconds) as ThreadJob[];
  const progress: [number, number][] = [];
  for (const j of jobs) if (scheduler.has(j.id) && j.done < j.frames) progress.push([j.num, j.done / j.frames]);
  post({ type: 'unit', unit: { lane: unit.lane, variant: unit.variant, rows: unit.rows.length, frames: unit.frames, seconds }, progress });
  for (const j of complete) {
    scheduler.remove(j.id);
    const video = j.out!.buffer as ArrayBuffer;
    post(
      {
        type: 'done', id: j.num, video, width: j.width, height: j.height, frames: j.frames,
        seconds: j.seconds, units: j.units, maxRows: j.maxRows, waitSeconds: ((j.firstUnitAt ?? t0) - j.submittedAt) / 1000,
      },
      [video],
    );
  }
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
  post({ type: 'closed' });
  port.close();
}

