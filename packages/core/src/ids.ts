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
  seq = now === lastMs ? seq + 1 : 0;
  lastMs = now;
  const time = now.toString(36).padStart(9, '0');
  const s = (seq % 36 ** 4).toString(36).padStart(4, '0');
  let rand = '';
  for (const b of randomBytes(10)) rand += ALPHABET[b % 36];
  return `${prefix}_${time}${s}${rand}`;
}
