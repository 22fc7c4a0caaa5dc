import { describe, expect, it } from 'vitest';
import { callFrames, ChunkedJob, StepScheduler, type Unit, type UnitLane } from './step-scheduler.js';

let seq = 0;
const job = (id: string, lane: UnitLane, frames: number, chunk = lane === 'draft' ? frames : 4, bytes = frames * 100) =>
  new ChunkedJob(id, lane, lane === 'draft' ? 'int8' : 'fp32', frames, chunk, bytes, seq++);

/** What the engine thread does with a unit: advance its rows, then tell the scheduler. Returns the rows' pieces. */
function run(s: StepScheduler<ChunkedJob>, u: Unit<ChunkedJob>, seconds: number): string {
  const pieces = u.rows.map((j) => `${j.id}@${j.piece.from}+${j.piece.count}`).join(',');
  for (const j of u.rows) j.advance();
  for (const j of s.finish(u, seconds)) s.remove(j.id);
  return `${u.lane}:${pieces}`;
}

/** Runs units until nothing is left, each taking `cost(unit)` seconds; returns the order of (lane, pieces). */
function drain(s: StepScheduler<ChunkedJob>, cost: (lane: UnitLane) => number, onUnit?: (n: number) => void) {
  const order: string[] = [];
  for (let n = 0; ; n++) {
    onUnit?.(n);
    const u = s.next();
    if (!u) return order;
    order.push(run(s, u, cost(u.lane)));
  }
}

describe('StepScheduler', () => {
  it('pads a piece to the frame quantum', () => {
    expect([1, 3, 4, 5, 8, 70].map(callFrames)).toEqual([4, 4, 4, 8, 8, 72]);
  });

  it('cuts a final into chunks and a pending draft goes at the next boundary', () => {
    const s = new StepScheduler<ChunkedJob>({ minFinalShare: 0 });
    s.add(job('f', 'final', 10));
    const order = drain(s, () => 0.02, (n) => n === 1 && s.add(job('d', 'draft', 16)));
    expect(order).toEqual(['final:f@0+4', 'draft:d@0+16', 'final:f@4+4', 'final:f@8+2']);
  });

  it('finals keep their minimum share under a steady stream of drafts', () => {
    const s = new StepScheduler<ChunkedJob>({ minFinalShare: 0.25 });
    s.add(job('f', 'final', 40));
    let d = 0;
    // A draft is always pending: a new one arrives before every boundary.
    const order: string[] = [];
    let finalTime = 0;
    let draftTime = 0;
    for (let n = 0; n < 200 && s.has('f'); n++) {
      if (![...Array(d).keys()].some((i) => s.has(`d${i}`))) s.add(job(`d${d++}`, 'draft', 16));
      const u = s.next()!;
      order.push(u.lane);
      const sec = u.lane === 'draft' ? 0.015 : 0.02;
      if (u.lane === 'draft') draftTime += sec;
      else finalTime += sec;
      run(s, u, sec);
    }
    expect(s.has('f')).toBe(false); // the final finished
    // Its share of the engine time while both lanes had work is at least the minimum (one unit of slack).
    expect(finalTime / (finalTime + draftTime)).toBeGreaterThanOrEqual(0.25 - 0.02);
    // And drafts still went first most of the time.
    expect(order.filter((l) => l === 'draft').length).toBeGreaterThan(order.filter((l) => l === 'final').length);
  });

  it('without drafts waiting, finals do not bank credit against a later burst', () => {
    const s = new StepScheduler<ChunkedJob>({ minFinalShare: 0.5 });
    s.add(job('f', 'final', 40));
    for (let i = 0; i < 5; i++) run(s, s.next()!, 0.02);
    s.add(job('d1', 'draft', 16));
    expect(s.next()!.lane).toBe('draft');
  });

  it('shares a call between rows of the same variant and frames, up to the row cap', () => {
    const s = new StepScheduler<ChunkedJob>({ maxRows: () => 2 });
    s.add(job('a', 'final', 8));
    s.add(job('b', 'final', 8));
    s.add(job('c', 'final', 8));
    s.add(job('x', 'final', 5, 8)); // 8 frames per row: another call shape
    const u = s.next()!;
    expect(u.rows.map((r) => r.id)).toEqual(['a', 'b']);
    expect(u.frames).toBe(4);
  });

  it('admits jobs by bytes: paused work stays within the budget, and one job may always start', () => {
    const s = new StepScheduler<ChunkedJob>({ maxPausedBytes: 1500, maxRows: () => 4 });
    s.add(job('a', 'final', 8, 4, 1000));
    s.add(job('b', 'final', 8, 4, 1000));
    s.add(job('big', 'final', 8, 4, 5000));
    const u = s.next()!;
    expect(u.rows.map((r) => r.id)).toEqual(['a']); // b would pass the budget
    expect(s.pausedBytes).toBe(1000);
    run(s, u, 0.01);
    const u2 = s.next()!;
    expect(u2.rows.map((r) => r.id)).toEqual(['a']); // started work first
    run(s, u2, 0.01);
    expect(s.pausedBytes).toBe(0);
    expect(s.next()!.rows.map((r) => r.id)).toEqual(['b']);
    s.remove('b');
    expect(s.next()!.rows.map((r) => r.id)).toEqual(['big']); // alone, over the budget
    // Drafts are not held back by paused finals: they finish within the unit that starts them,
    // and hold no bytes of the budget (before: removing a started draft subtracted bytes it never added).
    s.add(job('d', 'draft', 16));
    const d = s.next()!;
    expect(d.lane).toBe('draft');
    run(s, d, 0.01);
    expect(s.pausedBytes).toBe(5000);
  });

  it('a removed (canceled) job is not advanced by a unit that was running when it left', () => {
    const s = new StepScheduler<ChunkedJob>();
    s.add(job('f', 'final', 8));
    const u = s.next()!;
    s.remove('f');
    expect(s.finish(u, 0.01)).toEqual([]);
    expect(s.pausedBytes).toBe(0);
    expect(s.next()).toBeUndefined();
  });
});
