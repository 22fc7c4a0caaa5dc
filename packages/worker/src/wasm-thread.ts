/**
 * The worker_thread that runs the h264-mp4-encoder WASM (minih264e + an MP4 muxer,
 * compiled with Emscripten), started by internal/threads.ts. It needs nothing but the package's
 * path, passed in workerData (a test points it at a missing one).
 *
 * Protocol (parent → thread): { id, width, height, fps, frames, qp, speed, rgb: Uint8Array }.
 * Thread → parent: { ready: true } once the WASM is compiled; per job { id, ok: true, mp4, ms }
 * (mp4's buffer transferred) or { id, ok: false, message, fatal }. After a fatal error (the
 * WASM aborted or threw) the parent terminates the thread and starts a fresh one.
 *
 * RGB → YUV 4:2:0 is done here rather than by the library's addFrameRgba: it saves widening
 * every frame to RGBA, and uses the same matrix as ffmpeg's default rgb24 → yuv420p
 * (BT.601, limited range, each chroma sample the mean of a 2×2 block), which is also what a
 * player assumes for an untagged stream.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { parentPort as port, workerData } from 'node:worker_threads';

/** One encode, as the parent sends it. */
export interface WasmJob { id: number; width: number; height: number; fps: number; frames: number; qp: number; speed: number; rgb: Uint8Array }
export interface WasmThreadData { modulePath: string }

/** The slice of the Emscripten module this thread uses. */
interface Encoder {
  width: number; height: number; frameRate: number; quantizationParameter: number; speed: number; groupOfPictures: number; outputFilename: string;
  initialize(): void; addFrameYuv(yuv: Uint8Array): void; finalize(): void; delete(): void;
  FS: { readFile(f: string): Uint8Array; unlink(f: string): void };
}
interface Module { H264MP4Encoder: new () => Encoder; FS: Encoder['FS'] }

const parentPort = port!;
const HME = createRequire(import.meta.url)((workerData as WasmThreadData).modulePath) as { createH264MP4Encoder(): Promise<Encoder> };
// Emscripten's node shell adds process handlers that rethrow; in this thread an uncaught error
// must end the thread (the parent sees it and restarts), which is Node's default anyway.
process.removeAllListeners('uncaughtException');
process.removeAllListeners('unhandledRejection');

let yuv = new Uint8Array(0);
function toYuv420(rgb: Uint8Array, off: number, w: number, h: number): Uint8Array {
  const ySize = w * h, cw = w >> 1, ch = h >> 1;
  const need = ySize + 2 * cw * ch;
  if (yuv.length !== need) yuv = new Uint8Array(need);
  const uOff = ySize, vOff = ySize + cw * ch;
  for (let i = 0, p = off; i < ySize; i++, p += 3) {
    yuv[i] = (66 * rgb[p]! + 129 * rgb[p + 1]! + 25 * rgb[p + 2]! + 128 + 4096) >> 8;
  }
  const stride = w * 3;
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      const a = off + (2 * y) * stride + 6 * x, b = a + stride;
      const r = rgb[a]! + rgb[a + 3]! + rgb[b]! + rgb[b + 3]!;
      const g = rgb[a + 1]! + rgb[a + 4]! + rgb[b + 1]! + rgb[b + 4]!;
      const bl = rgb[a + 2]! + rgb[a + 5]! + rgb[b + 2]! + rgb[b + 5]!;
      const i = y * cw + x;
      // Sums of 4 pixels: the coefficients' >> 8 becomes >> 10, and the rounding scales too.
      yuv[uOff + i] = (-38 * r - 74 * g + 112 * bl + 512 + 131072) >> 10;
      yuv[vOff + i] = (112 * r - 94 * g - 18 * bl + 512 + 131072) >> 10;
    }
  }
  return yuv;
}

let seq = 0;
function encode(job: WasmJob, hme: Module): Uint8Array {
  const enc = new hme.H264MP4Encoder();
  const file = '/clip-' + (seq++) + '.mp4';
  try {
    enc.width = job.width;
    enc.height = job.height;
    enc.frameRate = job.fps;
    enc.quantizationParameter = job.qp;
    enc.speed = job.speed;
    // One GOP: a clip this short gains nothing from a second keyframe.
    enc.groupOfPictures = job.frames;
    enc.outputFilename = file;
    enc.initialize();
    const frameBytes = job.width * job.height * 3;
    for (let f = 0; f < job.frames; f++) enc.addFrameYuv(toYuv420(job.rgb, f * frameBytes, job.width, job.height));
    enc.finalize();
    return hme.FS.readFile(file);
  } finally {
    try {
      hme.FS.unlink(file);
    } catch {
      // never written
    }
    enc.delete();
  }
}

HME.createH264MP4Encoder().then((first) => {
  // createH264MP4Encoder waits for the WASM and hands out an encoder; later ones are made
  // directly from the same module (one instance, one heap, one FS).
  const hme: Module = { H264MP4Encoder: first.constructor as Module['H264MP4Encoder'], FS: first.FS };
  first.delete();
  parentPort.on('message', (job: WasmJob) => {
    const t0 = performance.now();
    let mp4: Uint8Array;
    try {
      mp4 = encode(job, hme);
    } catch (err) {
      parentPort.postMessage({ id: job.id, ok: false, fatal: true, message: String((err as Error | undefined)?.message ?? err) });
      return;
    }
    // A copy the size of the file: the WASM heap itself must not be transferred.
    const out = new Uint8Array(mp4);
    parentPort.postMessage({ id: job.id, ok: true, mp4: out, ms: performance.now() - t0 }, [out.buffer]);
  });
  parentPort.postMessage({ ready: true });
}, (err: unknown) => {
  throw err;
});
