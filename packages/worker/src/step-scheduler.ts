/**
 * The policy of the one engine per worker process: which bounded unit of work runs next.
 * Pure bookkeeping (no onnxruntime, no threads, no clock of its own), so it is tested on its own;
 * the engine thread (engine-thread.ts) drives it: `next()`, run the unit, `finish()`, repeat.
 *
 * - Work is cut into units of bounded time. A final's frames are independent in the
 *   single-graph model (`times` has a dynamic length), so its decode runs a chunk of frames at a
 *   time; a draft is one unit. Every call's frame count is a multiple of {@link FRAME_QUANTUM}
 *   (a short tail is padded and the padding dropped): onnxruntime's CPU kernels give the same
 *   bytes for a frame whatever call it was in only then (measured on the shipped fp32 model:
 *   chunks of 4 and 8 frames match a whole-clip call byte for byte, chunks of 1–3, 5–7 do not).
 * - At every unit boundary a pending draft goes first. Finals keep a minimum share of the engine
 *   time while drafts stream in (a deficit counter: each draft unit earns the finals credit), so
 *   a steady stream of drafts never starves them.
 * - Rows of different jobs share one call when their variant and chunk length match, up to a
 *   row cap that keeps the call within the unit budget.
 * - Paused work is bounded in bytes: a job is started (its output buffer allocated) only while
 *   the started-but-unfinished jobs' buffers fit in `maxPausedBytes`; the others wait unstarted.
 *   One job may always start, so no job is too big to ever run.
 */

/** Seconds of final work the credit may hold. */
const MAX_CREDIT_S = 0.05;

/** Frames per call are a multiple of this (see the file comment). */
export const FRAME_QUANTUM = 4;

export type UnitLane = 'draft' | 'final';

export interface ScheduledJob {
  readonly id: string;
  readonly lane: UnitLane;
  readonly variant: string;
  /** Frames of the whole clip. */
  readonly frames: number;
  /** Frames per unit: the whole clip for a draft, a chunk for a final. */
  readonly chunk: number;
  /** Bytes of the job's output buffer (held from its first unit to its last). */
  readonly bytes: number;
  /** Sequence number: lower was submitted earlier. */
  readonly seq: number;
  /** Frames done so far. */
  done: number;
  started: boolean;
}

export interface UnitRow {
  job: ScheduledJob;
  /** First frame of this row's piece. */
  from: number;
  /** Frames of this row's piece that are kept (≤ the call's frames: the rest is padding). */
  count: number;
}

export interface Unit {
  lane: UnitLane;
  variant: string;
  /** Frames per row in the call, a multiple of {@link FRAME_QUANTUM} unless the clip is shorter. */
  frames: number;
  rows: UnitRow[];
}

export interface StepSchedulerOptions {
  /**
   * Share of the engine time finals keep while drafts are pending.
   * @defaultValue 0.25
   */
  minFinalShare?: number;
  /** Bytes that started-but-unfinished jobs may hold. @defaultValue 256 MiB */
  maxPausedBytes?: number;
  /**
   * Most rows per call for a (variant, frames per row): keeps a call within the unit budget.
   * @defaultValue always 1
   */
  maxRows?: (variant: string, lane: UnitLane, frames: number) => number;
}

/** Frames per call for a piece of `count` frames: rounded up to the quantum, never past the clip when it is shorter. */
export function callFrames(count: number): number {
  return Math.ceil(count / FRAME_QUANTUM) * FRAME_QUANTUM;
}

export class StepScheduler {
  readonly #jobs = new Map<string, ScheduledJob>();
  readonly #minShare: number;
  readonly #maxBytes: number;
  readonly #maxRows: NonNullable<StepSchedulerOptions['maxRows']>;
  /** Engine seconds finals may still take while drafts wait (earned by draft units, spent by final ones). */
  #finalCredit = 0;
  #pausedBytes = 0;

  constructor(options: StepSchedulerOptions = {}) {
    const share = options.minFinalShare ?? 0.25;
    if (!(share >= 0 && share < 1)) throw new RangeError('minFinalShare must be in [0, 1)');
    this.#minShare = share;
    this.#maxBytes = options.maxPausedBytes ?? 256 * 2 ** 20;
    this.#maxRows = options.maxRows ?? (() => 1);
  }

  get size(): number {
    return this.#jobs.size;
  }

  /** Bytes held by started, unfinished jobs. */
  get pausedBytes(): number {
    return this.#pausedBytes;
  }

  has(id: string): boolean {
    return this.#jobs.has(id);
  }

  add(job: ScheduledJob): void {
    if (this.#jobs.has(job.id)) throw new Error(`job ${job.id} is already scheduled`);
    if (!(job.frames >= 1 && job.chunk >= 1)) throw new RangeError(`job ${job.id}: frames and chunk must be ≥ 1`);
    this.#jobs.set(job.id, job);
  }

  /** Drops a job (canceled, failed or finished); frees its bytes. */
  remove(id: string): ScheduledJob | undefined {
    const job = this.#jobs.get(id);
    if (job === undefined) return undefined;
    this.#jobs.delete(id);
    if (job.started) this.#pausedBytes -= job.bytes;
    return job;
  }

  /** The next unit to run, or undefined when there is nothing runnable. Starts the jobs it picks. */
  next(): Unit | undefined {
    const drafts: ScheduledJob[] = [];
    const finals: ScheduledJob[] = [];
    for (const j of this.#jobs.values()) if (j.done < j.frames) (j.lane === 'draft' ? drafts : finals).push(j);
    const startable = (j: ScheduledJob) => j.started || j.lane === 'draft' || this.#pausedBytes === 0 || this.#pausedBytes + j.bytes <= this.#maxBytes;
    const runnableFinals = finals.filter(startable);
    let lane: UnitLane;
    if (drafts.length === 0) {
      // Credit is not banked while no draft waits: a later burst of drafts must not wait for it.
      this.#finalCredit = Math.min(this.#finalCredit, 0);
      lane = 'final';
    } else lane = runnableFinals.length > 0 && this.#finalCredit > 0 ? 'final' : 'draft';
    const pool = (lane === 'draft' ? drafts : runnableFinals).sort(byPriority);
    const lead = pool[0];
    if (lead === undefined) return undefined;
    const count = Math.min(lead.chunk, lead.frames - lead.done);
    const frames = callFrames(count);
    const cap = Math.max(1, this.#maxRows(lead.variant, lane, frames));
    const rows: UnitRow[] = [];
    for (const j of pool) {
      if (rows.length >= cap) break;
      if (j.variant !== lead.variant) continue;
      const c = Math.min(j.chunk, j.frames - j.done);
      if (callFrames(c) !== frames) continue;
      if (!j.started) {
        if (!startable(j)) continue;
        if (j.lane !== 'draft') this.#pausedBytes += j.bytes;
        j.started = true;
      }
      rows.push({ job: j, from: j.done, count: c });
    }
    return { lane, variant: lead.variant, frames, rows };
  }

  /**
   * Records a unit's end: advances its rows (still scheduled ones: a canceled job may have left
   * meanwhile) and settles the finals' credit. Returns the rows' jobs that are now complete; they
   * stay scheduled until {@link remove}.
   */
  finish(unit: Unit, seconds: number): ScheduledJob[] {
    if (unit.lane === 'draft') {
      const finalWaits = [...this.#jobs.values()].some((j) => j.lane === 'final' && j.done < j.frames);
      // Credit only accrues while a final waits: it is the finals' share of the time drafts took
      // from them. Capped, so that finals blocked for a while (by memory) do not then hold drafts
      // back for more than a unit or two.
      if (finalWaits) this.#finalCredit = Math.min(this.#finalCredit + (seconds * this.#minShare) / (1 - this.#minShare), MAX_CREDIT_S);
    } else this.#finalCredit -= seconds;
    const complete: ScheduledJob[] = [];
    for (const r of unit.rows) {
      if (this.#jobs.get(r.job.id) !== r.job) continue;
      r.job.done = r.from + r.count;
      if (r.job.done >= r.job.frames) complete.push(r.job);
    }
    return complete;
  }
}

/** Started jobs first (finish what holds memory), then submission order. */
function byPriority(a: ScheduledJob, b: ScheduledJob): number {
  return Number(b.started) - Number(a.started) || a.seq - b.seq;
}
