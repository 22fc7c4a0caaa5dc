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

/** Frames one unit may take at `msPerFrame`: as many as fit in `unitMs`, rounded down to the frame quantum (at least one quantum). */
export function framesPerUnit(unitMs: number, msPerFrame: number): number {
  return Math.max(FRAME_QUANTUM, Math.floor(unitMs / msPerFrame / FRAME_QUANTUM) * FRAME_QUANTUM);
}

export type UnitLane = 'draft' | 'final';

/** What a job's next unit is. Rows of different jobs share one call only when their keys are equal. */
export interface UnitSpec {
  /** Everything that must match for rows to share a call: the stage, the component variant, the shapes. */
  key: string;
  /** The variant that runs it (for the row cap). */
  variant: string;
  /** Work per row in frames (for the row cap: cost is measured per frame). */
  frames: number;
}

/**
 * A job as the scheduler sees it. The thread owns what the job is (a clip cut in frame chunks,
 * a pipeline's encode → steps → decode) and advances it after each unit; the scheduler only
 * reads its next unit and its size.
 */
export interface ScheduledJob {
  readonly id: string;
  readonly lane: UnitLane;
  /** Bytes the job holds from its first unit to its last (its output, latents). */
  readonly bytes: number;
  /** Sequence number: lower was submitted earlier. */
  readonly seq: number;
  started: boolean;
  /** The next unit, or null when the job is done. */
  readonly next: UnitSpec | null;
}

export interface Unit<J extends ScheduledJob = ScheduledJob> {
  lane: UnitLane;
  /** The rows' common key. */
  key: string;
  variant: string;
  /** Frames per row. */
  frames: number;
  rows: J[];
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

/** Frames per call for a piece of `count` frames: rounded up to the quantum. */
export function callFrames(count: number): number {
  return Math.ceil(count / FRAME_QUANTUM) * FRAME_QUANTUM;
}

/**
 * A clip decoded a chunk of frames per unit (the single-graph model; a draft is one chunk).
 * The call's frames are the piece's rounded up to {@link FRAME_QUANTUM}, so the key makes rows
 * share a call only when they have the same padded length.
 */
export class ChunkedJob implements ScheduledJob {
  started = false;
  /** Frames done so far. */
  done = 0;

  constructor(
    readonly id: string,
    readonly lane: UnitLane,
    readonly variant: string,
    /** Frames of the whole clip. */
    readonly frames: number,
    /** Frames per unit. */
    readonly chunk: number,
    readonly bytes: number,
    readonly seq: number,
  ) {
    if (!(frames >= 1 && chunk >= 1)) throw new RangeError(`job ${id}: frames and chunk must be ≥ 1`);
  }

  /** The frames of the next piece: [from, from + count). */
  get piece(): { from: number; count: number } {
    return { from: this.done, count: Math.min(this.chunk, this.frames - this.done) };
  }

  get next(): UnitSpec | null {
    if (this.done >= this.frames) return null;
    const frames = callFrames(this.piece.count);
    return { key: `${this.variant}|${frames}`, variant: this.variant, frames };
  }

  /** After its unit ran. */
  advance(): void {
    this.done += this.piece.count;
  }
}

export class StepScheduler<J extends ScheduledJob = ScheduledJob> {
  readonly #jobs = new Map<string, J>();
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

  get(id: string): J | undefined {
    return this.#jobs.get(id);
  }

  add(job: J): void {
    if (this.#jobs.has(job.id)) throw new Error(`job ${job.id} is already scheduled`);
    this.#jobs.set(job.id, job);
  }

  /** Drops a job (canceled, failed or finished); frees its bytes. */
  remove(id: string): J | undefined {
    const job = this.#jobs.get(id);
    if (job === undefined) return undefined;
    this.#jobs.delete(id);
    if (job.started && job.lane !== 'draft') this.#pausedBytes -= job.bytes;
    return job;
  }

  /** The next unit to run, or undefined when there is nothing runnable. Starts the jobs it picks. */
  next(): Unit<J> | undefined {
    const drafts: J[] = [];
    const finals: J[] = [];
    for (const j of this.#jobs.values()) if (j.next !== null) (j.lane === 'draft' ? drafts : finals).push(j);
    const startable = (j: J) => j.started || j.lane === 'draft' || this.#pausedBytes === 0 || this.#pausedBytes + j.bytes <= this.#maxBytes;
    const runnableFinals = finals.filter(startable);
    let lane: UnitLane;
    if (drafts.length === 0) {
      // Credit is not banked while no draft waits: a later burst of drafts must not wait for it.
      this.#finalCredit = Math.min(this.#finalCredit, 0);
      lane = 'final';
    } else lane = runnableFinals.length > 0 && this.#finalCredit > 0 ? 'final' : 'draft';
    const pool = (lane === 'draft' ? drafts : runnableFinals).sort(byPriority);
    const lead = pool[0]?.next;
    if (lead == null) return undefined;
    const cap = Math.max(1, this.#maxRows(lead.variant, lane, lead.frames));
    const rows: J[] = [];
    for (const j of pool) {
      if (rows.length >= cap) break;
      if (j.next!.key !== lead.key) continue;
      if (!j.started) {
        if (!startable(j)) continue;
        if (j.lane !== 'draft') this.#pausedBytes += j.bytes;
        j.started = true;
      }
      rows.push(j);
    }
    return { lane, key: lead.key, variant: lead.variant, frames: lead.frames, rows };
  }

  /**
   * Settles the finals' credit after a unit ran (the caller has advanced its rows). Returns the
   * rows' jobs that are now done and still scheduled (a canceled one may have left meanwhile);
   * they stay scheduled until {@link remove}.
   */
  finish(unit: Unit<J>, seconds: number): J[] {
    if (unit.lane === 'draft') {
      const finalWaits = [...this.#jobs.values()].some((j) => j.lane === 'final' && j.next !== null);
      // Credit only accrues while a final waits: it is the finals' share of the time drafts took
      // from them. Capped, so that finals blocked for a while (by memory) do not then hold drafts
      // back for more than a unit or two.
      if (finalWaits) this.#finalCredit = Math.min(this.#finalCredit + (seconds * this.#minShare) / (1 - this.#minShare), MAX_CREDIT_S);
    } else this.#finalCredit -= seconds;
    return unit.rows.filter((j) => this.#jobs.get(j.id) === j && j.next === null);
  }
}

/** Started jobs first (finish what holds memory), then submission order. */
function byPriority(a: ScheduledJob, b: ScheduledJob): number {
  return Number(b.started) - Number(a.started) || a.seq - b.seq;
}
