import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
let lastMs = -1;
let seq = 0;

/**
 * A prefixed id that sorts by creation time as a plain string: 9 base-36 characters
 * of milliseconds, a 4-character per-process sequence (monotonic within a millisecond,
 * like ULID), then 10 random base-36 characters (~51 bits). Listing and cursors rely
 * on this order, so ids of the same millisecond never tie.
 */
export function newId(prefix: 'job' | 'ast' | 'evt' | 'req' | 'key'): string {
  const now = Date.now();
  return `${prefix}_${timePart(now)}${sequence(now)}${randomPart()}`;
}

/** The smallest job id minted at `ms`: every id of a job created before it sorts below it. */
export function idBefore(ms: number): string {
  return `job_${timePart(ms)}`;
}

const timePart = (ms: number) => Math.max(0, ms).toString(36).padStart(9, '0');

function sequence(now: number): string {
  seq = now === lastMs ? seq + 1 : 0;
  lastMs = now;
  return (seq % 36 ** 4).toString(36).padStart(4, '0');
}

function randomPart(): string {
  let rand = '';
  for (const b of randomBytes(10)) rand += ALPHABET[b % 36];
  return rand;
}
