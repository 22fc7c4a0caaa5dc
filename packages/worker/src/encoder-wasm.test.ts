import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { Encoder, WASM_GROUP_VOLUME, WASM_MAX_VOLUME, type EncodeSpec } from './encoder.js';
import { WasmEncoder } from './encoder-wasm.js';
import { WorkerError } from './errors.js';
import { decodeRaw, meanAbsError, topLevelBoxes } from './internal/media.testkit.js';
import { ffprobe } from './internal/testing.testkit.js';

/** Flat colour blocks that change every frame: what the shapes model draws, and easy to check after a lossy encode. */
function flatClip(w: number, h: number, frames: number, seed = 0): Uint8Array {
  const palette = [
    [220, 40, 40], [40, 200, 60], [30, 60, 220], [240, 220, 40], [250, 250, 250], [20, 20, 20], [200, 60, 200], [40, 200, 220],
  ] as const;
  const buf = new Uint8Array(w * h * 3 * frames);
  let i = 0;
  for (let f = 0; f < frames; f++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        // A background plus a square moving right; block edges on the 16 px grid-ish.
        const inside = x >= 8 + f * 2 && x < 8 + f * 2 + w / 4 && y >= h / 4 && y < h / 2;
        const c = inside ? palette[(seed + 3) % palette.length]! : palette[(seed + ((x >> 4) + (y >> 4)) % 2) % palette.length]!;
        buf[i++] = c[0];
        buf[i++] = c[1];
        buf[i++] = c[2];
      }
  return buf;
}

describe('WasmEncoder (real WASM, checked with ffprobe and ffmpeg)', () => {
  const closers: { close(): Promise<void> }[] = [];
  afterAll(async () => {
    await Promise.all(closers.map((c) => c.close()));
  });
  const wasm = (o: ConstructorParameters<typeof WasmEncoder>[0] = {}) => {
    const e = new WasmEncoder(o);
    closers.push(e);
    return e;
  };

  it('writes H.264 yuv420p MP4, moov before mdat, exact size, frame count and rate, pixels close to the input', async () => {
    const enc = wasm();
    for (const [w, h, frames, fps] of [[128, 128, 16, 8], [256, 256, 24, 12], [64, 48, 5, 24], [72, 40, 3, 10]] as const) {
      const rgb = flatClip(w, h, frames);
      const res = await enc.encode({ width: w, height: h, fps, frames }, rgb);
      expect(await ffprobe(res.video)).toEqual({ codec: 'h264', pixFmt: 'yuv420p', width: w, height: h, frames, fps });
      const boxes = topLevelBoxes(res.video);
      expect(boxes.indexOf('moov')).toBeGreaterThanOrEqual(0);
      expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat'));
      const decoded = await decodeRaw(res.video);
      expect(decoded.length).toBe(rgb.length);
      // Flat colours survive a QP 22 encode with a small error (chroma edges blur a little).
      expect(meanAbsError(decoded, rgb)).toBeLessThan(4);
      expect(res.poster.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      expect(res.seconds).toBeGreaterThan(0);
    }
  });

  it('warm is false for the encode that started the WASM, true once it is up; warm() does it ahead', async () => {
    const enc = wasm();
    const spec = { width: 32, height: 32, fps: 8, frames: 2 };
    expect(enc.ready).toBe(false);
    expect((await enc.encode(spec, flatClip(32, 32, 2))).warm).toBe(false);
    expect((await enc.encode(spec, flatClip(32, 32, 2))).warm).toBe(true);
    const pre = wasm();
    await pre.warm();
    expect(pre.ready).toBe(true);
    expect((await pre.encode(spec, flatClip(32, 32, 2))).warm).toBe(true);
  });

  it('serializes many encodes at once, each correct and its own', async () => {
    const enc = wasm();
    await enc.warm();
    const n = 12;
    const clips = Array.from({ length: n }, (_, k) => flatClip(64, 64, 4 + (k % 3), k));
    const t0 = performance.now();
    const out = await Promise.all(clips.map((c, k) => enc.encode({ width: 64, height: 64, fps: 8, frames: 4 + (k % 3) }, c)));
    const wall = (performance.now() - t0) / 1000;
    for (let k = 0; k < n; k++) {
      expect((await ffprobe(out[k]!.video)).frames).toBe(4 + (k % 3));
      expect(meanAbsError(await decodeRaw(out[k]!.video), clips[k]!)).toBeLessThan(4);
    }
    // Serialized: each is metered for its own turn only, so the metered intervals do not overlap and
    // add up to no more than the wall time of the lot (had they run at once, or had the wait been metered, they would exceed it).
    const secs = out.map((r) => r.seconds);
    expect(secs.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(wall);
    expect(out.every((r) => r.warm)).toBe(true);
  });

  it('clips that are views into one batch buffer are each encoded on their own, and the buffer stays the caller’s', async () => {
    const enc = wasm();
    const clips = [0, 1, 2].map((k) => flatClip(64, 64, 4, k));
    // As the engine hands them over: one output buffer for the batch, a view per video.
    const batch = new Uint8Array(clips.reduce((n, c) => n + c.length, 0));
    clips.forEach((c, k) => batch.set(c, k * c.length));
    const views = clips.map((c, k) => batch.subarray(k * c.length, (k + 1) * c.length));
    const out = await Promise.all(views.map((v) => enc.encode({ width: 64, height: 64, fps: 8, frames: 4 }, v)));
    for (let k = 0; k < clips.length; k++) expect(meanAbsError(await decodeRaw(out[k]!.video), clips[k]!)).toBeLessThan(4);
    // Nothing was transferred away from under the batch (its poster, its other clips still read it).
    expect(batch.byteLength).toBe(clips.length * clips[0]!.length);
    expect(views[2]![0]).toBe(clips[2]![0]);
  });

  it('a stuck encode times out (retryable), and the next one gets a fresh thread', async () => {
    const enc = wasm({ timeoutMs: 1 });
    const err = await enc.encode({ width: 256, height: 256, fps: 8, frames: 48 }, flatClip(256, 256, 48)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerError);
    expect(err).toMatchObject({ code: 'encode_failed', retryable: true });
    expect((err as Error).message).toMatch(/timed out/);
    const ok = wasm({ timeoutMs: 60_000 });
    expect((await ffprobe((await ok.encode({ width: 32, height: 32, fps: 8, frames: 2 }, flatClip(32, 32, 2))).video)).frames).toBe(2);
  });

  it('a failure inside the WASM is encode_failed, retryable, and does not poison the next encode', async () => {
    const enc = wasm();
    // An odd width makes the WASM abort (Encoder never routes one here: wasmCanEncode), which ends that thread.
    const bad = await enc.encode({ width: 15, height: 16, fps: 8, frames: 1 }, new Uint8Array(15 * 16 * 3)).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 'encode_failed', retryable: true });
    const res = await enc.encode({ width: 32, height: 32, fps: 8, frames: 2 }, flatClip(32, 32, 2));
    expect((await ffprobe(res.video)).frames).toBe(2);
  });

  it('a WASM that cannot start fails retryable; after 3 failed starts in a row it reports itself unusable', async () => {
    const enc = wasm({ modulePath: '/nonexistent/h264-mp4-encoder.js' });
    for (let i = 0; i < 3; i++) {
      expect(enc.usable).toBe(true);
      await expect(enc.encode({ width: 32, height: 32, fps: 8, frames: 2 }, flatClip(32, 32, 2))).rejects.toMatchObject({ code: 'encode_failed', retryable: true });
    }
    expect(enc.usable).toBe(false);
  });

  it('close() fails what is still waiting', async () => {
    const enc = new WasmEncoder();
    const spec = { width: 128, height: 128, fps: 8, frames: 16 };
    const a = enc.encode(spec, flatClip(128, 128, 16)).catch((e: unknown) => e);
    const b = enc.encode(spec, flatClip(128, 128, 16)).catch((e: unknown) => e);
    await enc.close();
    expect(await b).toMatchObject({ code: 'encode_failed' });
    await a; // may have finished or failed; it settles either way
    await expect(enc.encode(spec, flatClip(128, 128, 16))).rejects.toMatchObject({ code: 'encode_failed' });
  });
});

describe('Encoder: WASM for small clips, ffmpeg for the rest', () => {
  const encoders: Encoder[] = [];
  afterAll(async () => {
    await Promise.all(encoders.map((e) => e.close()));
  });

  it('routes lone drafts and standard clips to WASM, finals (and odd sizes) to ffmpeg; same output contract', async () => {
    const enc = new Encoder({ warmPerSpec: 0 });
    encoders.push(enc);
    const draft: EncodeSpec = { width: 128, height: 128, fps: 8, frames: 16, preset: 'ultrafast' };
    const standard: EncodeSpec = { width: 256, height: 256, fps: 12, frames: 48, preset: 'veryfast' };
    const final: EncodeSpec = { width: 256, height: 256, fps: 24, frames: 72, preset: 'veryfast' };
    expect(256 * 256 * 48).toBe(WASM_MAX_VOLUME);
    expect([draft, standard, final].map((s) => enc.usesWasm(s))).toEqual([true, true, false]);
    expect(enc.usesWasm({ width: 33, height: 33, fps: 8, frames: 2 })).toBe(false);
    for (const [spec, via] of [[draft, 'wasm'], [standard, 'wasm'], [final, 'ffmpeg']] as const) {
      const rgb = flatClip(spec.width, spec.height, spec.frames);
      const res = await enc.encode(spec, rgb);
      expect(res.via).toBe(via);
      expect(res.frames).toBe(spec.frames);
      expect(res.groupSize).toBe(1);
      expect(await ffprobe(res.video)).toEqual({ codec: 'h264', pixFmt: 'yuv420p', width: spec.width, height: spec.height, frames: spec.frames, fps: spec.fps });
      const boxes = topLevelBoxes(res.video);
      expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat'));
      expect(meanAbsError(await decodeRaw(res.video), rgb)).toBeLessThan(4);
    }
  });

  it('a group of one spec goes to WASM while small in all, else to one shared ffmpeg process', () => {
    const enc = new Encoder({ warmPerSpec: 0 });
    encoders.push(enc);
    const draft = { width: 128, height: 128, fps: 8, frames: 16 };
    expect(128 * 128 * 16 * 8).toBe(WASM_GROUP_VOLUME);
    expect([1, 2, 8, 9].map((n) => enc.usesWasm(draft, n))).toEqual([true, true, true, false]);
    expect([4, 5].map((n) => enc.usesWasm({ ...draft, frames: 32 }, n))).toEqual([true, false]);
    expect([1, 2].map((n) => enc.usesWasm({ width: 256, height: 256, fps: 12, frames: 24 }, n))).toEqual([true, false]);
  });

  it('prewarm of a WASM spec initializes the WASM (and the ffmpeg pool, for batches); warm is reported', async () => {
    const enc = new Encoder({ warmPerSpec: 1 });
    encoders.push(enc);
    const draft: EncodeSpec = { width: 128, height: 128, fps: 8, frames: 16 };
    const warming = enc.prewarm(draft);
    expect(enc.warmCount).toBe(1);
    await warming;
    const res = await enc.encode(draft, flatClip(128, 128, 16));
    expect(res).toMatchObject({ via: 'wasm', warm: true });
    expect(enc.warmCount).toBe(1); // untouched
  });

  it('drafts arriving together: a batch is WASM-encoded one by one, a larger group shares a warm ffmpeg; all correct', async () => {
    const enc = new Encoder({ warmPerSpec: 1 });
    encoders.push(enc);
    const spec: EncodeSpec = { width: 128, height: 128, fps: 8, frames: 16, preset: 'ultrafast' };
    await enc.prewarm(spec); // WASM compiled, ffmpeg started
    for (const [n, via, group] of [[8, 'wasm', 1], [10, 'ffmpeg', 10]] as const) {
      const clips = Array.from({ length: n }, (_, k) => flatClip(128, 128, 16, k));
      const out = await Promise.all(clips.map((c) => enc.encode(spec, c)));
      expect(new Set(out.map((r) => r.video.toString('base64'))).size).toBe(n);
      for (let k = 0; k < n; k++) {
        expect(out[k]).toMatchObject({ via, groupSize: group, warm: true, frames: 16 });
        expect(await ffprobe(out[k]!.video)).toMatchObject({ codec: 'h264', pixFmt: 'yuv420p', frames: 16, fps: 8 });
        expect(meanAbsError(await decodeRaw(out[k]!.video), clips[k]!)).toBeLessThan(4);
      }
    }
  });

  it('a failed WASM encode is redone with ffmpeg; a WASM that cannot start is given up for ffmpeg', async () => {
    const slow = new Encoder({ warmPerSpec: 0, wasm: { timeoutMs: 1 } });
    const broken = new Encoder({ warmPerSpec: 0, wasm: { modulePath: '/nonexistent/h264-mp4-encoder.js' } });
    encoders.push(slow, broken);
    const spec: EncodeSpec = { width: 128, height: 128, fps: 8, frames: 16 };
    const rgb = flatClip(128, 128, 16);
    const res = await slow.encode(spec, rgb);
    expect(res).toMatchObject({ via: 'ffmpeg', frames: 16 });
    expect(slow.wasmFallbacks).toBe(1);
    expect(await ffprobe(res.video)).toMatchObject({ codec: 'h264', frames: 16, fps: 8 });
    for (let i = 0; i < 3; i++) expect((await broken.encode(spec, rgb)).via).toBe('ffmpeg');
    expect(broken.wasmFallbacks).toBe(3);
    expect(broken.usesWasm(spec)).toBe(false);
    expect((await broken.encode(spec, rgb)).via).toBe('ffmpeg');
    expect(broken.wasmFallbacks).toBe(3); // straight to ffmpeg now
  });

  it('wasm: false sends everything to ffmpeg', async () => {
    const enc = new Encoder({ warmPerSpec: 0, wasm: false });
    encoders.push(enc);
    const spec: EncodeSpec = { width: 32, height: 32, fps: 8, frames: 2 };
    expect(enc.usesWasm(spec)).toBe(false);
    expect((await enc.encode(spec, flatClip(32, 32, 2))).via).toBe('ffmpeg');
  });
});
