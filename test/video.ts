/** Reads what a rendered MP4 really contains, with ffprobe and ffmpeg. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface Probe {
  codec: string;
  pix_fmt: string;
  width: number;
  height: number;
  frames: number;
  fps: number;
  /** True when the moov atom precedes mdat (+faststart): playable while downloading. */
  faststart: boolean;
}

export async function probe(file: string, bytes: Buffer): Promise<Probe> {
  const { stdout } = await exec('ffprobe', [
    '-v', 'error', '-select_streams', 'v:0', '-count_frames',
    '-show_entries', 'stream=codec_name,pix_fmt,width,height,nb_read_frames,r_frame_rate', '-of', 'json', file,
  ]);
  const s = JSON.parse(stdout).streams[0];
  const [num, den] = String(s.r_frame_rate).split('/').map(Number) as [number, number];
  return {
    codec: s.codec_name, pix_fmt: s.pix_fmt, width: s.width, height: s.height,
    frames: Number(s.nb_read_frames), fps: num / den, faststart: topLevelBoxes(bytes).join(',').includes('moov') &&
      topLevelBoxes(bytes).indexOf('moov') < topLevelBoxes(bytes).indexOf('mdat'),
  };
}

function topLevelBoxes(buf: Buffer): string[] {
  const out: string[] = [];
  for (let off = 0; off + 8 <= buf.length; ) {
    let size = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    if (size === 1) size = Number(buf.readBigUInt64BE(off + 8));
    out.push(type);
    if (size < 8) break;
    off += size;
  }
  return out;
}

/** All frames as RGB24. */
export async function decodeFrames(file: string, width: number, height: number): Promise<Uint8Array[]> {
  const { stdout } = await exec('ffmpeg', ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], {
    encoding: 'buffer',
    maxBuffer: 1 << 30,
  });
  const size = width * height * 3;
  const frames: Uint8Array[] = [];
  for (let o = 0; o + size <= stdout.length; o += size) frames.push(stdout.subarray(o, o + size));
  return frames;
}

type Pred = (r: number, g: number, b: number) => boolean;
export const isRed: Pred = (r, g, b) => r > 150 && g < 90 && b < 90;
export const isBlue: Pred = (r, g, b) => b > 130 && r < 90 && g < 110;

/** Connected blobs of matching pixels (4-neighbour), ignoring specks. */
export function blobs(frame: Uint8Array, w: number, h: number, pred: Pred, minArea = 12) {
  const seen = new Uint8Array(w * h);
  const out: Array<{ area: number; cx: number; cy: number }> = [];
  for (let i = 0; i < w * h; i++) {
    if (seen[i] || !pred(frame[i * 3]!, frame[i * 3 + 1]!, frame[i * 3 + 2]!)) continue;
    let area = 0, sx = 0, sy = 0;
    const stack = [i];
    seen[i] = 1;
    while (stack.length) {
      const p = stack.pop()!;
      const x = p % w, y = (p - x) / w;
      area++; sx += x; sy += y;
      for (const q of [x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1, y > 0 ? p - w : -1, y < h - 1 ? p + w : -1]) {
        if (q >= 0 && !seen[q] && pred(frame[q * 3]!, frame[q * 3 + 1]!, frame[q * 3 + 2]!)) {
          seen[q] = 1;
          stack.push(q);
        }
      }
    }
    if (area >= minArea) out.push({ area, cx: sx / area, cy: sy / area });
  }
  return out;
}

export function fraction(frame: Uint8Array, pred: Pred): number {
  let n = 0;
  for (let i = 0; i < frame.length; i += 3) if (pred(frame[i]!, frame[i + 1]!, frame[i + 2]!)) n++;
  return n / (frame.length / 3);
}
