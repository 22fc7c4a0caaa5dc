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
