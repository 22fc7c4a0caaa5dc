import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit.js';

/** A GroupCommit that records the groups it commits; items ≥ 100 fail alone. */
function recorder(maxGroup?: number) {
  const groups: number[][] = [];
  const gc = new GroupCommit<number, string>(async (items) => {
    groups.push(items);
    return items.map((i) => (i >= 100 ? new Error(`bad ${i}`) : `ok ${i}`));
  }, maxGroup);
  return { gc, groups };
}

describe('GroupCommit', () => {
  it('commits what is submitted in one event-loop turn together, and each caller gets its own outcome', async () => {
    const { gc, groups } = recorder();
    const first = await Promise.all([1, 2, 3].map((i) => gc.submit(i)));
    const second = await Promise.all([4, 5].map((i) => gc.submit(i)));
    expect(first).toEqual(['ok 1', 'ok 2', 'ok 3']);
    expect(second).toEqual(['ok 4', 'ok 5']);
    expect(groups).toEqual([[1, 2, 3], [4, 5]]);
  });

  it('fails only the item whose outcome is an error', async () => {
    const { gc, groups } = recorder();
    const outcomes = await Promise.allSettled([1, 100, 2].map((i) => gc.submit(i)));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason.message).toBe('bad 100');
    expect(groups).toHaveLength(1);
  });

  it('fails every item of the group when the commit itself throws', async () => {
    const gc = new GroupCommit<number, number>(async () => {
      throw new Error('redis down');
    });
    const outcomes = await Promise.allSettled([1, 2].map((i) => gc.submit(i)));
    expect(outcomes.map((o) => o.status === 'rejected' && o.reason.message)).toEqual(['redis down', 'redis down']);
  });

  it('flushes at once when a group is full', async () => {
    const { gc, groups } = recorder(2);
    await Promise.all([1, 2, 3, 4, 5].map((i) => gc.submit(i)));
    expect(groups).toEqual([[1, 2], [3, 4], [5]]);
  });
});
