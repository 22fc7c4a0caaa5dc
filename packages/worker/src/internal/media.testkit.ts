/** Test helpers for the encoders (used by *.test.ts only): decode an MP4 with ffmpeg, list its top-level boxes. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Every frame of an MP4, decoded by ffmpeg to packed rgb24 (or yuv420p) bytes. */
export async function decodeRaw(video: Uint8Array, pixFmt: 'rgb24' | 'yuv420p' = 'rgb24', bin = '/usr/bin/ffmpeg'): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'clickvid-decode-'));
  try {
    const file = join(dir, 'v.mp4');
    writeFileSync(file, video);
    const { stdout } = await run(bin, ['-v', 'error', '-nostdin', '-i', file, '-f', 'rawvideo', '-pix_fmt', pixFmt, 'pipe:1'], {
      encoding: 'buffer',
      maxBuffer: 1 << 30,
    });
    return stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Top-level box types of an MP4, in order. */
export function topLevelBoxes(mp4: Uint8Array): string[] {
  const b = Buffer.from(mp4.buffer, mp4.byteOffset, mp4.byteLength);
  const out: string[] = [];
  for (let at = 0; at + 8 <= b.length; ) {
    let size = b.readUInt32BE(at);
    out.push(b.toString('latin1', at + 4, at + 8));
    if (size === 1) size = Number(b.readBigUInt64BE(at + 8));
    if (size === 0) break;
    at += size;
  }
  return out;
}

/** Mean absolute difference of two equal-length byte arrays. */
export function meanAbsError(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`lengths differ: ${a.length} vs ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

/**
 * A square moving `step` px per frame over a gradient, as RGB24 frames: real content,
 * so the encoder has work to do, and frames differ so chunk boundaries matter.
 */
export function movingSquareClip(w: number, h: number, frames: number, step = 2): Uint8Array {
  const buf = new Uint8Array(w * h * 3 * frames);
  let i = 0;
  for (let f = 0; f < frames; f++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const inside = Math.abs(x - (w / 4 + f * step)) < w / 8 && Math.abs(y - h / 2) < h / 8;
        buf[i++] = inside ? 240 : (x * 255) / w;
        buf[i++] = inside ? 30 : (y * 255) / h;
        buf[i++] = inside ? 30 : 100;
      }
  return buf;
}
