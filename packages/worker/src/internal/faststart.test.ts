import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WasmEncoder } from '../encoder-wasm.js';
import { faststart, FaststartError, parseBoxes } from './faststart.js';
import { decodeRaw, topLevelBoxes, movingSquareClip } from './media.testkit.js';
import { ffprobe } from './testing.testkit.js';

const run = promisify(execFile);
const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl']);

const clip = (w: number, h: number, frames: number) => movingSquareClip(w, h, frames, 1);

/** Rebuilds the boxes of buf[from, to), recursing into containers, with `leaf` mapping each leaf box's bytes. */
function rebuild(buf: Buffer, from: number, to: number, leaf: (type: string, box: Buffer) => Buffer): Buffer {
  const parts: Buffer[] = [];
  for (const b of parseBoxes(buf, from, to)) {
    if (CONTAINERS.has(b.type)) {
      const body = rebuild(buf, b.start + b.header, b.end, leaf);
      const head = Buffer.alloc(8);
      head.writeUInt32BE(8 + body.length, 0);
      head.write(b.type, 4, 'latin1');
      parts.push(head, body);
    } else parts.push(leaf(b.type, buf.subarray(b.start, b.end)));
  }
  return Buffer.concat(parts);
}

/** stco → co64, same offsets. */
function toCo64(stco: Buffer): Buffer {
  const count = stco.readUInt32BE(12);
  const out = Buffer.alloc(16 + count * 8);
  out.writeUInt32BE(out.length, 0);
  out.write('co64', 4, 'latin1');
  out.writeUInt32BE(stco.readUInt32BE(8), 8);
  out.writeUInt32BE(count, 12);
  for (let i = 0; i < count; i++) out.writeBigUInt64BE(BigInt(stco.readUInt32BE(16 + i * 4)), 16 + i * 8);
  return out;
}

function chunkOffsets(mp4: Buffer): number[] {
  const offs: number[] = [];
  rebuild(mp4, 0, mp4.length, (type, box) => {
    if (type === 'stco' || type === 'co64') {
      const n = box.readUInt32BE(12);
      for (let i = 0; i < n; i++) offs.push(type === 'stco' ? box.readUInt32BE(16 + i * 4) : Number(box.readBigUInt64BE(16 + i * 8)));
    }
    return box;
  });
  return offs;
}

describe('faststart (real MP4s, decoded by ffmpeg before and after)', () => {
  let wasmMp4: Buffer;
  let ffmpegMp4: Buffer;
  let dir: string;
  const wasm = new WasmEncoder();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'clickvid-faststart-'));
    const rgb = clip(64, 48, 20);
    const raw = join(dir, 'in.rgb');
    await import('node:fs/promises').then((fs) => fs.writeFile(raw, rgb));
    // ffmpeg's mp4 muxer without +faststart writes moov last too; 40 frames in several chunks.
    const out = join(dir, 'ff.mp4');
    await run('/usr/bin/ffmpeg', [
      '-v', 'error', '-nostdin', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', '64x48', '-framerate', '8', '-i', raw,
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', out,
    ]);
    ffmpegMp4 = readFileSync(out);
    wasmMp4 = await rawWasm(64, 48, 20, rgb);
  });
  afterAll(async () => {
    await wasm.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The library's own output (moov last): straight from the WASM, bypassing WasmEncoder's faststart. */
  async function rawWasm(w: number, h: number, frames: number, rgb: Uint8Array): Promise<Buffer> {
    const { createRequire } = await import('node:module');
    // Emscripten's node shell adds rethrowing process handlers when it loads: take those (only) out again.
    const had = new Set([...process.listeners('uncaughtException'), ...process.listeners('unhandledRejection')]);
    const HME = createRequire(import.meta.url)('h264-mp4-encoder') as typeof import('h264-mp4-encoder');
    for (const l of process.listeners('uncaughtException')) if (!had.has(l)) process.removeListener('uncaughtException', l);
    for (const l of process.listeners('unhandledRejection')) if (!had.has(l)) process.removeListener('unhandledRejection', l);
    const enc = await HME.createH264MP4Encoder();
    try {
      enc.width = w;
      enc.height = h;
      enc.frameRate = 8;
      enc.quantizationParameter = 22;
      enc.speed = 10;
      enc.groupOfPictures = 8; // several keyframes, several samples
      enc.outputFilename = 'faststart-test.mp4';
      enc.initialize();
      const rgba = new Uint8Array(w * h * 4);
      for (let f = 0; f < frames; f++) {
        for (let i = 0; i < w * h; i++) {
          rgba[i * 4] = rgb[(f * w * h + i) * 3]!;
          rgba[i * 4 + 1] = rgb[(f * w * h + i) * 3 + 1]!;
          rgba[i * 4 + 2] = rgb[(f * w * h + i) * 3 + 2]!;
          rgba[i * 4 + 3] = 255;
        }
        enc.addFrameRgba(rgba);
      }
      enc.finalize();
      const mp4 = Buffer.from(enc.FS.readFile(enc.outputFilename));
      enc.FS.unlink(enc.outputFilename);
      return mp4;
    } finally {
      enc.delete();
    }
  }

  async function sameDecode(before: Buffer, after: Buffer, frames: number, w: number, h: number) {
    expect(await ffprobe(after)).toMatchObject({ codec: 'h264', pixFmt: 'yuv420p', width: w, height: h, frames });
    const [a, b] = await Promise.all([decodeRaw(before, 'yuv420p'), decodeRaw(after, 'yuv420p')]);
    expect(a.length).toBe((w * h * 3 * frames) / 2);
    expect(b.equals(a)).toBe(true);
  }

  it('moves moov before mdat in the WASM encoder output; decoded frames are byte-identical', async () => {
    expect(topLevelBoxes(wasmMp4)).toEqual(['ftyp', 'free', 'mdat', 'moov', 'free']);
    const fixed = faststart(wasmMp4);
    expect(topLevelBoxes(fixed)).toEqual(['ftyp', 'moov', 'mdat']);
    // Every chunk offset moved by exactly as far as mdat did.
    const mdatBefore = wasmMp4.indexOf('mdat') - 4;
    const mdatAfter = fixed.indexOf('mdat') - 4;
    expect(chunkOffsets(fixed)).toEqual(chunkOffsets(wasmMp4).map((o) => o - mdatBefore + mdatAfter));
    await sameDecode(wasmMp4, fixed, 20, 64, 48);
  });

  it('handles ffmpeg (libx264) output with several chunks', async () => {
    expect(topLevelBoxes(ffmpegMp4).slice(-2)).toEqual(['mdat', 'moov']);
    const fixed = faststart(ffmpegMp4);
    expect(topLevelBoxes(fixed)).toEqual(['ftyp', 'moov', 'mdat']);
    expect(chunkOffsets(ffmpegMp4).length).toBeGreaterThan(0);
    await sameDecode(ffmpegMp4, fixed, 20, 64, 48);
  });

  it('reads a 64-bit mdat size and keeps it', async () => {
    // Same bytes before the media: free(136) + mdat header(8) becomes free(128) + 64-bit mdat header(16),
    // so the chunk offsets stay right without touching moov.
    const free = parseBoxes(wasmMp4).find((b) => b.type === 'free')!;
    const mdat = parseBoxes(wasmMp4).find((b) => b.type === 'mdat')!;
    expect(free.end).toBe(mdat.start);
    const freeLen = free.end - free.start;
    const wide = Buffer.from(wasmMp4);
    wide.writeUInt32BE(freeLen - 8, free.start);
    const at = free.start + freeLen - 8;
    wide.writeUInt32BE(1, at);
    wide.write('mdat', at + 4, 'latin1');
    wide.writeBigUInt64BE(BigInt(mdat.end - mdat.start + 8), at + 8);
    expect(parseBoxes(wide).find((b) => b.type === 'mdat')!.header).toBe(16);
    await sameDecode(wasmMp4, wide, 20, 64, 48); // the hand-made file itself is valid
    const fixed = faststart(wide);
    expect(topLevelBoxes(fixed)).toEqual(['ftyp', 'moov', 'mdat']);
    expect(parseBoxes(fixed).find((b) => b.type === 'mdat')!.header).toBe(16);
    await sameDecode(wasmMp4, fixed, 20, 64, 48);
  });

  it('rewrites co64 tables', async () => {
    const top = parseBoxes(wasmMp4);
    const moov = top.find((b) => b.type === 'moov')!;
    const newMoov = rebuild(wasmMp4, moov.start, moov.end, (type, box) => (type === 'stco' ? toCo64(box) : box));
    const co64 = Buffer.concat([wasmMp4.subarray(0, moov.start), newMoov, wasmMp4.subarray(moov.end)]);
    expect(co64.indexOf('co64')).toBeGreaterThan(0);
    expect(co64.indexOf('stco')).toBe(-1);
    const fixed = faststart(co64);
    expect(topLevelBoxes(fixed)).toEqual(['ftyp', 'moov', 'mdat']);
    await sameDecode(wasmMp4, fixed, 20, 64, 48);
  });

  it('leaves a file whose moov already comes first as it is', () => {
    const fixed = faststart(wasmMp4);
    expect(faststart(fixed).equals(fixed)).toBe(true);
  });

  it('fails clearly on what it cannot fix', () => {
    const mdatOnly = Buffer.from(wasmMp4.subarray(0, wasmMp4.indexOf('moov') - 4));
    expect(() => faststart(mdatOnly)).toThrow(FaststartError);
    expect(() => faststart(mdatOnly)).toThrow(/moov/);
    const truncated = Buffer.from(wasmMp4.subarray(0, wasmMp4.length - 200));
    expect(() => faststart(truncated)).toThrow(/past the end/);
    // A chunk offset pointing outside the media data.
    const bad = Buffer.from(wasmMp4);
    const stco = bad.indexOf('stco') - 4;
    bad.writeUInt32BE(1, stco + 16);
    expect(() => faststart(bad)).toThrow(/not inside any mdat box/);
  });

  it('WasmEncoder output is faststart and decodes like the raw WASM output', async () => {
    const rgb = clip(64, 48, 20);
    const res = await wasm.encode({ width: 64, height: 48, fps: 8, frames: 20 }, rgb);
    expect(topLevelBoxes(res.video)).toEqual(['ftyp', 'moov', 'mdat']);
    expect((await ffprobe(res.video)).frames).toBe(20);
  });
});
