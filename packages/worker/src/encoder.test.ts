import { inflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { Encoder, type EncodeSpec } from './encoder.js';
import { WorkerError } from './errors.js';
import { encodePng } from './internal/png.js';
import { movingSquareClip } from './internal/media.testkit.js';
import { ffprobe } from './internal/testing.testkit.js';

const clip = (w: number, h: number, frames: number) => movingSquareClip(w, h, frames, 2);

describe('Encoder (real ffmpeg, checked with ffprobe)', () => {
  const encoders: Encoder[] = [];
  const make = (o: ConstructorParameters<typeof Encoder>[0] = {}) => {
    // These cases are about the ffmpeg path (pool, groups, failures): small clips would otherwise go to the WASM encoder (encoder-wasm.test.ts).
    const e = new Encoder({ ffmpegPath: '/usr/bin/ffmpeg', wasm: false, ...o });
    encoders.push(e);
    return e;
  };
  afterAll(async () => {
    await Promise.all(encoders.map((e) => e.close()));
  });

  it('encodes rgb24 frames to H.264 MP4 of the right size, frame count and rate, plus a PNG poster', async () => {
    const enc = make();
    const spec: EncodeSpec = { width: 64, height: 48, fps: 8, frames: 12, preset: 'ultrafast' };
    const res = await enc.encode(spec, clip(64, 48, 12));
    const probe = await ffprobe(res.video);
    expect(probe).toMatchObject({ codec: 'h264', pixFmt: 'yuv420p', width: 64, height: 48, frames: 12, fps: 8 });
    // faststart: the moov atom comes before mdat.
    expect(res.video.indexOf('moov')).toBeLessThan(res.video.indexOf('mdat'));
    expect(res.poster.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(res.seconds).toBeGreaterThan(0);
    expect(res.frames).toBe(12);
  });

  it('the warm pool serves the next job of a spec from a pre-started process, and refills', async () => {
    const enc = make({ warmPerSpec: 1 });
    const spec: EncodeSpec = { width: 32, height: 32, fps: 10, frames: 5 };
    enc.prewarm(spec);
    expect(enc.warmCount).toBe(1);
    const a = await enc.encode(spec, clip(32, 32, 5));
    expect(a.warm).toBe(true);
    expect(enc.warmCount).toBe(1); // refilled once its process was done
    const b = await enc.encode(spec, clip(32, 32, 5));
    expect(b.warm).toBe(true);
    // Another spec has no warm process yet: cold, and then one is kept for it too.
    const c = await enc.encode({ ...spec, width: 48, frames: 3 }, clip(48, 32, 3));
    expect(c.warm).toBe(false);
    expect((await ffprobe(c.video)).width).toBe(48);
    expect(enc.warmCount).toBe(2);
  });

  it('caps warm processes across specs, evicting the least recently used', async () => {
    const enc = make({ warmPerSpec: 1, maxWarm: 2 });
    for (const width of [16, 32, 48]) enc.prewarm({ width, height: 16, fps: 4, frames: 2 });
    expect(enc.warmCount).toBe(2);
    const r = await enc.encode({ width: 48, height: 16, fps: 4, frames: 2 }, clip(48, 16, 2));
    expect(r.warm).toBe(true);
    const r16 = await enc.encode({ width: 16, height: 16, fps: 4, frames: 2 }, clip(16, 16, 2));
    expect(r16.warm).toBe(false); // evicted
  });

  it('without a pool every job starts its own process', async () => {
    const enc = make({ warmPerSpec: 0 });
    const r = await enc.encode({ width: 32, height: 32, fps: 4, frames: 3 }, clip(32, 32, 3));
    expect(r.warm).toBe(false);
    expect(enc.warmCount).toBe(0);
    expect((await ffprobe(r.video)).frames).toBe(3);
  });

  it('encodes the videos of a batch in one ffmpeg process, one exact MP4 each', async () => {
    const enc = make({ warmPerSpec: 1 });
    const spec: EncodeSpec = { width: 32, height: 32, fps: 8, frames: 6 };
    enc.prewarm(spec);
    // Different content per video, so a misplaced cut would show.
    const clips = [0, 1, 2, 3].map((k) => clip(32, 32, 6).map((v, i) => (i % 3 === 2 ? (k * 60) % 256 : v)));
    const out = await Promise.all(clips.map((c) => enc.encode(spec, c)));
    expect(out.map((r) => r.groupSize)).toEqual([4, 4, 4, 4]);
    expect(out.every((r) => r.warm)).toBe(true);
    for (const r of out) expect(await ffprobe(r.video)).toMatchObject({ codec: 'h264', width: 32, height: 32, frames: 6, fps: 8 });
    expect(new Set(out.map((r) => r.video.toString('base64'))).size).toBe(4);
    // Each is metered a share of the one process.
    expect(new Set(out.map((r) => r.seconds)).size).toBe(1);
    // Another frame count is another spec: its own process.
    const [x, y] = await Promise.all([enc.encode(spec, clips[0]!), enc.encode({ ...spec, frames: 3 }, clip(32, 32, 3))]);
    expect([x.groupSize, y.groupSize]).toEqual([1, 1]);
    expect((await ffprobe(y.video)).frames).toBe(3);
  });

  it('caps a group at maxGroup videos', async () => {
    const enc = make({ warmPerSpec: 0, maxGroup: 2 });
    const spec: EncodeSpec = { width: 16, height: 16, fps: 4, frames: 2 };
    const out = await Promise.all([1, 2, 3].map(() => enc.encode(spec, clip(16, 16, 2))));
    expect(out.map((r) => r.groupSize)).toEqual([2, 2, 1]);
    for (const r of out) expect((await ffprobe(r.video)).frames).toBe(2);
  });

  it('a frame buffer of the wrong size is encode_failed, not retryable', async () => {
    const enc = make();
    const err = await enc.encode({ width: 32, height: 32, fps: 8, frames: 2 }, new Uint8Array(100)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerError);
    expect(err).toMatchObject({ code: 'encode_failed', retryable: false });
  });

  it('a missing ffmpeg binary is encode_failed, not retryable', async () => {
    const enc = make({ ffmpegPath: '/nonexistent/ffmpeg', warmPerSpec: 0 });
    await expect(enc.encode({ width: 16, height: 16, fps: 8, frames: 2 }, clip(16, 16, 2))).rejects.toMatchObject({ code: 'encode_failed', retryable: false });
  });

  it('an ffmpeg that dies (or fails) mid-job is encode_failed and retryable, with its stderr', async () => {
    const enc = make({ warmPerSpec: 1 });
    // Odd sizes are refused by yuv420p x264 at run time: a real ffmpeg failure after start-up.
    const err = await enc.encode({ width: 33, height: 33, fps: 8, frames: 2 }, clip(33, 33, 2)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'encode_failed', retryable: true });
    expect((err as Error).message).toMatch(/exited with/);
  });

  it('kills an encode past its timeout (retryable)', async () => {
    const enc = make({ warmPerSpec: 0, timeoutMs: 1 });
    const err = await enc.encode({ width: 64, height: 64, fps: 8, frames: 40, preset: 'medium' }, clip(64, 64, 40)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'encode_failed', retryable: true });
    expect((err as Error).message).toMatch(/timed out/);
  });

  it('close() kills the warm processes', async () => {
    const enc = new Encoder({ warmPerSpec: 1, wasm: false });
    enc.prewarm({ width: 16, height: 16, fps: 8, frames: 1 });
    expect(enc.warmCount).toBe(1);
    await enc.close();
    expect(enc.warmCount).toBe(0);
    await expect(enc.encode({ width: 16, height: 16, fps: 8, frames: 1 }, clip(16, 16, 1))).rejects.toMatchObject({ code: 'encode_failed' });
  });
});

describe('encodePng', () => {
  it('writes a valid RGB PNG whose pixels round-trip', () => {
    const w = 5;
    const h = 3;
    const rgb = new Uint8Array(w * h * 3).map((_, i) => (i * 37) % 256);
    const png = encodePng(rgb, w, h);
    expect(png.readUInt32BE(16)).toBe(w);
    expect(png.readUInt32BE(20)).toBe(h);
    const idatLen = png.readUInt32BE(33);
    expect(png.toString('latin1', 37, 41)).toBe('IDAT');
    const raw = inflateSync(png.subarray(41, 41 + idatLen));
    for (let y = 0; y < h; y++) {
      expect(raw[y * (w * 3 + 1)]).toBe(0);
      expect([...raw.subarray(y * (w * 3 + 1) + 1, (y + 1) * (w * 3 + 1))]).toEqual([...rgb.subarray(y * w * 3, (y + 1) * w * 3)]);
    }
    expect(png.subarray(-8, -4).toString('latin1')).toBe('IEND');
  });
});
