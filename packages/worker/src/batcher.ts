import { performance } from 'node:perf_hooks';

/** Lanes in the order a free engine serves them: a pending draft batch always goes first. */
export const LANE_ORDER = ['draft', 'final'] as const;
export type BatchLane = (typeof LANE_ORDER)[number];

export interface LaneBatching {
  /** Largest batch for the lane; 1 turns batching off. */
  maxBatch: number;
  /**
   * How long a not-full batch may stay open collecting jobs while the engine
   * is busy. Past it the batch is overdue: the free engine takes it ahead of
   * fuller, younger batches of the same lane, so no key starves.
   */
  windowMs: number;
}

/** Runs one batch; all inputs share the batch key. Returns one output per input, in order. */
export type RunBatch<I, O> = (key: string, inputs: I[]) => Promise<{ outputs: O[]; seconds: number }>;

export interface SubmitOptions<I> {
  lane: BatchLane;
  /** Batch key: jobs batch together only when this matches (variant, width, height, frames). */
  key: string;
  input: I;
  /** The tier's max batch; the lane's limit applies too, and the smaller wins. */
  maxBatch?: number;
}

export interface BatchShare<O> {
  output: O;
  /** How many jobs the batch held. */
  batchSize: number;
  /** Wall seconds of the whole batch's run. */
  batchSeconds: number;
  /** This job's share: batchSeconds / batchSize. */
  inferenceSeconds: number;
  /** Seconds between submit and the batch starting. */
  waitSeconds: number;
}

interface Pending<I, O> {
  input: I;
  submittedAt: number;
  resolve: (s: BatchShare<O>) => void;
  reject: (err: unknown) => void;
}

interface Group<I, O> {
  lane: BatchLane;
  key: string;
  max: number;
  openedAt: number;
  items: Pending<I, O>[];
}

/** Called after every batch, e.g. to record metrics. */
export type BatchObserver = (info: { lane: BatchLane; key: string; size: number; seconds: number; ok: boolean }) => void;

export interface BatcherOptions<I, O> {
  run: RunBatch<I, O>;
  lanes: Record<BatchLane, LaneBatching>;
  onBatch?: BatchObserver;
}

/**
 * Collects jobs handed in by concurrent BullMQ processors and runs them as
 * batches on one engine, one batch at a time (Ray Serve's `@serve.batch`,
 * without its waiting tax):
 *
 * - An idle engine takes work at once. Submissions in the same event-loop
 *   turn still share a batch, since dispatch waits one `setImmediate`, not a timer.
 * - While the engine is busy, jobs collect per (lane, key) up to the max
 *   batch; a full batch is closed and the next job opens a new one.
 * - When the engine frees, it takes the best pending batch right away: lanes
 *   in {@link LANE_ORDER} (drafts before finals), then within a lane the
 *   overdue ones (open past the lane's window) oldest first, then full ones,
 *   then the oldest. Holding a batch back while the only engine idles would
 *   add latency and no throughput: the jobs that arrive during a run are the
 *   next batch.
 */
export class Batcher<I, O> {
  readonly #run: RunBatch<I, O>;
  readonly #lanes: Record<BatchLane, LaneBatching>;
  readonly #onBatch: BatchObserver | undefined;
  readonly #groups: Group<I, O>[] = [];
  #busy = false;
  #scheduled = false;
  #closed = false;
  #idle: (() => void)[] = [];

  constructor(options: BatcherOptions<I, O>) {
    for (const lane of LANE_ORDER) {
      const l = options.lanes[lane];
      if (!Number.isInteger(l.maxBatch) || l.maxBatch < 1) throw new RangeError(`${lane}.maxBatch must be an integer ≥ 1`);
      if (!(l.windowMs >= 0)) throw new RangeError(`${lane}.windowMs must be ≥ 0`);
    }
    this.#run = options.run;
    this.#lanes = options.lanes;
    this.#onBatch = options.onBatch;
  }

  /** Jobs waiting for the engine (not counting the batch running now). */
  get pending(): number {
    return this.#groups.reduce((n, g) => n + g.items.length, 0);
  }

  get busy(): boolean {
    return this.#busy;
  }

  /** Hands one job in; resolves with its output and its share of the batch. */
  submit(opts: SubmitOptions<I>): Promise<BatchShare<O>> {
    if (this.#closed) return Promise.reject(new Error('batcher is closed'));
    const laneMax = this.#lanes[opts.lane].maxBatch;
    const max = Math.max(1, Math.min(laneMax, opts.maxBatch ?? laneMax));
    return new Promise<BatchShare<O>>((resolve, reject) => {
      const now = performance.now();
      let group = this.#groups.find((g) => g.lane === opts.lane && g.key === opts.key && g.max === max && g.items.length < g.max);
      if (group === undefined) {
        group = { lane: opts.lane, key: opts.key, max, openedAt: now, items: [] };
        this.#groups.push(group);
      }
      group.items.push({ input: opts.input, submittedAt: now, resolve, reject });
      this.#schedule();
    });
  }

  /** Takes no new jobs; resolves when the pending and running batches are done. */
  async close(): Promise<void> {
    this.#closed = true;
    if (!this.#busy && this.#groups.length === 0) return;
    await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  #schedule(): void {
    if (this.#busy || this.#scheduled) return;
    this.#scheduled = true;
    // One event-loop turn, not a timer: jobs that BullMQ hands over together batch together.
    setImmediate(() => {
      this.#scheduled = false;
      this.#next();
    });
  }

  #next(): void {
    if (this.#busy) return;
    const group = this.#pick();
    if (group === undefined) {
      for (const done of this.#idle.splice(0)) done();
      return;
    }
    this.#groups.splice(this.#groups.indexOf(group), 1);
    this.#busy = true;
    void this.#dispatch(group).finally(() => {
      this.#busy = false;
      this.#next();
    });
  }

  #pick(): Group<I, O> | undefined {
    const now = performance.now();
    for (const lane of LANE_ORDER) {
      const mine = this.#groups.filter((g) => g.lane === lane);
      if (mine.length === 0) continue;
      const window = this.#lanes[lane].windowMs;
      // #groups is in opening order, so the first match is the oldest.
      return (
        mine.find((g) => now - g.openedAt >= window && g.items.length < g.max) ??
        mine.find((g) => g.items.length >= g.max) ??
        mine[0]
      );
    }
    return undefined;
  }

  async #dispatch(group: Group<I, O>): Promise<void> {
    const start = performance.now();
    const size = group.items.length;
    let result: { outputs: O[]; seconds: number };
    try {
      result = await this.#run(
        group.key,
        group.items.map((p) => p.input),
      );
      if (result.outputs.length !== size) throw new Error(`batch of ${size} gave ${result.outputs.length} outputs`);
    } catch (err) {
      this.#onBatch?.({ lane: group.lane, key: group.key, size, seconds: (performance.now() - start) / 1000, ok: false });
      for (const p of group.items) p.reject(err);
      return;
    }
    this.#onBatch?.({ lane: group.lane, key: group.key, size, seconds: result.seconds, ok: true });
    group.items.forEach((p, i) =>
      p.resolve({
        output: result.outputs[i] as O,
        batchSize: size,
        batchSeconds: result.seconds,
        inferenceSeconds: result.seconds / size,
        waitSeconds: (start - p.submittedAt) / 1000,
      }),
    );
  }
}

/** The batch key of a render: jobs batch only when all of these match. */
export function batchKey(variant: string, width: number, height: number, frames: number): string {
  return `${variant}|${width}x${height}|${frames}`;
}
