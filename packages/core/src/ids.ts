import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * A prefixed id whose first 9 characters are the creation time in base 36, so ids
 * sort by creation, followed by 14 random base-36 characters (~72 bits).
 */
export function newId(prefix: 'job' | 'ast' | 'evt' | 'req'): string {
  const time = Date.now().toString(36).padStart(9, '0');
  const bytes = randomBytes(14);
  let rand = '';
  for (const b of bytes) rand += ALPHABET[b % 36];
  return `${prefix}_${time}${rand}`;
}
