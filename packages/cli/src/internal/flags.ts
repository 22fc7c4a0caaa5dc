import { Flags } from '@oclif/core';

/** A decimal number flag (oclif has only integers built in). */
export const numberFlag = Flags.custom<number>({
  parse: async (input) => {
    const n = Number(input);
    if (input.trim() === '' || !Number.isFinite(n)) throw new Error(`Expected a number but got: ${input}`);
    return n;
  },
});

/** `--timeout SECONDS` of commands that wait. */
export const timeoutFlag = Flags.integer({ description: 'Give up waiting after this many seconds (the job keeps running).', default: 600, min: 1 });

/** Parse repeated `k=v` flags into a string map. */
export function parsePairs(pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs?.length) return undefined;
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`Expected key=value but got: ${pair}`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** `--all` and `--limit` of the list commands. */
export const pageFlags = {
  all: Flags.boolean({ description: 'Follow next_cursor through every page.' }),
  limit: Flags.integer({ description: 'Page size.', min: 1, max: 100, default: 20 }),
};

/** One page of a list, or with `all` every item (following next_cursor), as a list command prints and returns it. */
export async function readList<T>(
  list: PromiseLike<{ data: T[]; next_cursor: string | null }> & AsyncIterable<T>,
  all: boolean,
): Promise<{ object: 'list'; data: T[]; next_cursor: string | null }> {
  if (!all) {
    const page = await list;
    return { object: 'list', data: page.data, next_cursor: page.next_cursor };
  }
  const data: T[] = [];
  for await (const item of list) data.push(item);
  return { object: 'list', data, next_cursor: null };
}
