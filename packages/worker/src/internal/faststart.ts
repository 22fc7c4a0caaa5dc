/**
 * MP4 "faststart": moves the `moov` box ahead of the media data, so a player can start before the
 * whole file is in. Pure and in-memory: the in-process encoder writes `ftyp, free, mdat, moov`
 * (moov last, as every one-pass muxer does), and this rewrites it as `ftyp, moov, mdat`.
 *
 * Moving moov moves every sample in mdat, so each chunk offset in moov (`stco`, 32-bit, or
 * `co64`, 64-bit, under moov/trak/mdia/minf/stbl) is rewritten by how far its chunk moved.
 * `free`/`skip` boxes at the top level are dropped.
 */

export class FaststartError extends Error {
  override name = 'FaststartError';
}

interface Box {
  type: string;
  /** Offset of the box's first header byte. */
  start: number;
  /** Offset just past the box. */
  end: number;
  /** Header bytes (8, or 16 with a 64-bit size). */
  header: number;
}

/** Boxes that hold other boxes on the way from moov to the chunk offset tables. */
const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'edts', 'dinf', 'mvex', 'moof', 'traf']);
const DROPPED = new Set(['free', 'skip']);

/** The boxes in buf[from, to), in order. Throws on a size that runs past `to` or is too small. */
export function parseBoxes(buf: Uint8Array, from = 0, to = buf.length): Box[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const boxes: Box[] = [];
  let at = from;
  while (at < to) {
    if (to - at < 8) throw new FaststartError(`truncated box header at ${at}`);
    let size = view.getUint32(at);
    const type = String.fromCharCode(buf[at + 4]!, buf[at + 5]!, buf[at + 6]!, buf[at + 7]!);
    let header = 8;
    if (size === 1) {
      if (to - at < 16) throw new FaststartError(`truncated 64-bit box header at ${at}`);
      const big = view.getBigUint64(at + 8);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new FaststartError(`box '${type}' at ${at} is too large`);
      size = Number(big);
      header = 16;
    } else if (size === 0) {
      size = to - at; // runs to the end of the enclosing space
    }
    if (size < header || at + size > to) throw new FaststartError(`box '${type}' at ${at} has size ${size}, past the end (${to})`);
    boxes.push({ type, start: at, end: at + size, header });
    at += size;
  }
  return boxes;
}

/**
 * Returns the MP4 with moov before the first mdat (and top-level free/skip boxes dropped), every
 * chunk offset rewritten to match. A file that already has moov first comes back unchanged.
 * Throws {@link FaststartError} on a malformed file, a file without moov or mdat, a chunk offset
 * outside every mdat, or an `stco` offset that would no longer fit in 32 bits.
 */
export function faststart(input: Uint8Array): Buffer {
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const top = parseBoxes(buf);
  const moovs = top.filter((b) => b.type === 'moov');
  if (moovs.length !== 1) throw new FaststartError(`expected one moov box, found ${moovs.length}`);
  const moov = moovs[0]!;
  const firstMdat = top.findIndex((b) => b.type === 'mdat');
  if (firstMdat < 0) throw new FaststartError('no mdat box');
  if (moov.start < top[firstMdat]!.start) return Buffer.from(buf);

  // The new order: what came before the first mdat, moov, then the rest; free space goes.
  const order: Box[] = [];
  for (const b of top) {
    if (b === moov || DROPPED.has(b.type)) continue;
    if (b === top[firstMdat]) order.push(moov);
    order.push(b);
  }
  // Where each kept box lands. moov keeps its size (stco stays stco), so this is known up front.
  const moved = new Map<Box, number>();
  let at = 0;
  for (const b of order) {
    moved.set(b, at);
    at += b.end - b.start;
  }
  const total = at;
  const media = order.filter((b) => b.type === 'mdat');
  const relocate = (offset: number): number => {
    for (const b of media) if (offset >= b.start && offset < b.end) return offset - b.start + moved.get(b)!;
    throw new FaststartError(`chunk offset ${offset} is not inside any mdat box`);
  };

  const out = Buffer.alloc(total);
  for (const b of order) buf.copy(out, moved.get(b)!, b.start, b.end);
  const newMoov = moved.get(moov)!;
  // A moov of size 0 ("to the end of the file") is not last any more: give it its real size.
  if (buf.readUInt32BE(moov.start) === 0) {
    const size = moov.end - moov.start;
    if (size > 0xffffffff) throw new FaststartError('moov of size 0 is too large to re-size in place');
    out.writeUInt32BE(size, newMoov);
  }
  const rewritten = rewriteOffsets(out, newMoov + moov.header, newMoov + (moov.end - moov.start), relocate);
  if (rewritten === 0) throw new FaststartError('moov has no stco/co64 chunk offset table');
  return out;
}

/** Rewrites, in place, every stco/co64 in the boxes of out[from, to); returns how many tables it saw. */
function rewriteOffsets(out: Buffer, from: number, to: number, relocate: (offset: number) => number): number {
  let tables = 0;
  for (const b of parseBoxes(out, from, to)) {
    const body = b.start + b.header;
    if (CONTAINERS.has(b.type)) {
      tables += rewriteOffsets(out, body, b.end, relocate);
    } else if (b.type === 'stco' || b.type === 'co64') {
      tables++;
      const wide = b.type === 'co64';
      const width = wide ? 8 : 4;
      // full box: version (1) + flags (3), then entry_count (4), then the entries.
      if (b.end - body < 8) throw new FaststartError(`${b.type} at ${b.start} is truncated`);
      const count = out.readUInt32BE(body + 4);
      if (body + 8 + count * width > b.end) throw new FaststartError(`${b.type} at ${b.start} lists ${count} entries past its end`);
      for (let i = 0; i < count; i++) {
        const p = body + 8 + i * width;
        const old = wide ? Number(out.readBigUInt64BE(p)) : out.readUInt32BE(p);
        const moved = relocate(old);
        if (wide) out.writeBigUInt64BE(BigInt(moved), p);
        else if (moved > 0xffffffff) throw new FaststartError(`chunk offset ${moved} no longer fits in stco (would need co64)`);
        else out.writeUInt32BE(moved, p);
      }
    }
  }
  return tables;
}
