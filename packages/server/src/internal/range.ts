import type { ByteRange } from '@clickvid/core';

/**
 * One `Range: bytes=…` header against a file of `size` bytes (RFC 9110 §14.1.2): the range to
 * send, null to send the whole file (no header, one that is not about bytes, or several ranges,
 * which a server may answer whole), or 'unsatisfiable' (416) when it starts past the end.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | null | 'unsatisfiable' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    // A suffix: the last N bytes.
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    return size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size) return 'unsatisfiable';
  if (end < start) return null; // syntactically invalid: ignored, as the RFC says
  return { start, end };
}
