// Shared Node helpers for clickvid-shapes: manifest loading, tokenizer, seeded noise,
// onnxruntime-node sessions, the classical-CV analyzer and held-out prompt generation.
// Used by eval.mjs (accuracy + speed) and bench/engine-speed.mjs.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// The one tokenizer (serving, eval, bench): @clickvid/core's build, imported by path because this
// script runs outside the workspace packages (`npm run build` first; `npm test` builds).
import { Tokenizer } from '../../packages/core/dist/tokenizer.js';

export const MODEL_DIR = dirname(fileURLToPath(import.meta.url));

export function loadManifest(dir = MODEL_DIR) {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
}

// onnxruntime-node: the repo install, else the scratch install used before the lead added it.
export function loadOrt() {
  const req = createRequire(join(MODEL_DIR, '..', '..', 'package.json'));
  const candidates = [
    'onnxruntime-node',
    '/tmp/ort/node_modules/onnxruntime-node',
  ];
  for (const c of candidates) {
    try {
      return req(c);
    } catch {
      /* try next */
    }
  }
  throw new Error('onnxruntime-node not found (npm i onnxruntime-node@1.30.0)');
}

// ---------------------------------------------------------------- text
const tokenizers = new WeakMap();

export function tokenize(prompt, text) {
  let t = tokenizers.get(text);
  if (!t) tokenizers.set(text, (t = new Tokenizer(text)));
  const { ids, unknown } = t.encode(prompt);
  return { ids, unknown };
}

// ---------------------------------------------------------------- noise
export function mulberry32(seed) {
  let a = seed | 0;
  return function next() {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function makeNoise(seed, noiseSpec) {
  const r = mulberry32(seed);
  const u = Array.from({ length: noiseSpec.dim }, () => r());
  if (noiseSpec.distribution !== 'normal') return u;
  const z = new Array(noiseSpec.dim);
  for (let i = 0; i < noiseSpec.dim; i += 2) {
    const rad = Math.sqrt(-2 * Math.log(1 - u[i]));
    const th = 2 * Math.PI * (u[i + 1] ?? r());
    z[i] = rad * Math.cos(th);
    if (i + 1 < noiseSpec.dim) z[i + 1] = rad * Math.sin(th);
  }
  return z;
}

export function makeTimes(frames) {
  return Array.from({ length: frames }, (_, i) => (frames > 1 ? i / (frames - 1) : 0));
}

// ---------------------------------------------------------------- sessions
export async function createSession(ort, manifest, variant, { threads = 2, dir = MODEL_DIR } = {}) {
  const v = manifest.variants[variant];
  if (!v) throw new Error(`unknown variant ${variant}`);
  return ort.InferenceSession.create(join(dir, v.file), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
}

/** jobs: [{prompt, seed}] (one batch); returns {video: Uint8Array, dims:[B,F,H,W,3], ms} */
/**
 * Frames per inference call for evaluation: whole clips in one call are memory-bound (2.5× slower
 * at 256 px, GBs of activations). A multiple of 4, so a frame's bytes are those of a whole-clip
 * call (docs/performance.md, Units).
 */
export const EVAL_FRAMES_PER_CALL = 8;

/** Renders `jobs` (batch) in calls of `framesPerCall` frames; `ms` is the inference time. */
export async function generate(ort, session, manifest, jobs, frames, framesPerCall = EVAL_FRAMES_PER_CALL) {
  const L = manifest.text.max_tokens;
  const D = manifest.noise.dim;
  const B = jobs.length;
  const tok = new BigInt64Array(B * L);
  const noise = new Float32Array(B * D);
  const ts = makeTimes(frames);
  jobs.forEach((j, b) => {
    tokenize(j.prompt, manifest.text).ids.forEach((id, i) => (tok[b * L + i] = BigInt(id)));
    makeNoise(j.seed, manifest.noise).forEach((x, i) => (noise[b * D + i] = x));
  });
  let video = null;
  let dims = null;
  let ms = 0;
  for (let from = 0; from < frames; from += framesPerCall) {
    const n = Math.min(framesPerCall, frames - from);
    const times = new Float32Array(B * n);
    for (let b = 0; b < B; b++) times.set(ts.slice(from, from + n), b * n);
    const feeds = {
      tokens: new ort.Tensor('int64', tok, [B, L]),
      noise: new ort.Tensor('float32', noise, [B, D]),
      times: new ort.Tensor('float32', times, [B, n]),
    };
    const t0 = performance.now();
    const out = await session.run(feeds);
    ms += performance.now() - t0;
    const [, , H, W, C = 1] = out.video.dims.map(Number);
    const frameLen = H * W * C;
    if (!video) {
      video = new out.video.data.constructor(B * frames * frameLen);
      dims = [B, frames, ...out.video.dims.slice(2).map(Number)];
    }
    for (let b = 0; b < B; b++) video.set(out.video.data.subarray(b * n * frameLen, (b + 1) * n * frameLen), (b * frames + from) * frameLen);
  }
  return { video, dims, ms };
}

// ---------------------------------------------------------------- analyzer
// Classical CV only: background estimate per row from the left and right borders (a solid colour or a
// vertical gradient), colour-distance foreground mask,
// 4-connected components, nearest-palette colour, rotation-invariant fill ratio
// (area / area of the centroid-centred enclosing circle), trajectory of the union.
export const PALETTE = {
  red: [220, 30, 30], orange: [245, 140, 20], yellow: [240, 220, 30], green: [40, 170, 50],
  cyan: [30, 210, 220], blue: [30, 60, 220], purple: [120, 40, 170], magenta: [230, 40, 200],
  white: [245, 245, 245], gray: [128, 128, 128], black: [15, 15, 15],
};
const PAL = Object.entries(PALETTE);

export function nearestColor(rgb) {
  let best = null;
  let bd = Infinity;
  for (const [name, c] of PAL) {
    const d = (rgb[0] - c[0]) ** 2 + (rgb[1] - c[1]) ** 2 + (rgb[2] - c[2]) ** 2;
    if (d < bd) { bd = d; best = name; }
  }
  return best;
}

// fill = area / (pi * Rmax^2); circle ~1.0, square ~0.64, triangle ~0.41.
// The bands are strict on purpose: a rounded ("blurred") square lands in the gap and counts as wrong.
export function classifyShape(fill) {
  if (fill >= 0.84) return 'circle';
  if (fill >= 0.55 && fill <= 0.76) return 'square';
  if (fill >= 0.33 && fill <= 0.5) return 'triangle';
  return 'blob';
}

function median(arr) {
  const a = Float64Array.from(arr).sort();
  return a.length ? a[a.length >> 1] : 0;
}

export function analyzeFrame(px, H, W, off, FG = 36) {
  // background of each row: per-channel median of its two outermost pixels at each side
  // (objects never touch the frame's edge); top and bottom: median over the first / last rows
  const rowBg = new Float64Array(H * 3);
  for (let y = 0; y < H; y++) {
    for (let c = 0; c < 3; c++) {
      const at = (x) => px[off + (y * W + x) * 3 + c];
      rowBg[y * 3 + c] = median([at(0), at(1), at(W - 2), at(W - 1)]);
    }
  }
  const band = Math.max(1, H >> 5);
  const bandBg = (y0) => [0, 1, 2].map((c) => median(Array.from({ length: band }, (_, k) => rowBg[(y0 + k) * 3 + c])));
  const bg = bandBg(0);
  const bgBottom = bandBg(H - band);
  const mask = new Uint8Array(H * W);
  const th2 = FG * FG;
  for (let p = 0; p < H * W; p++) {
    const i = off + p * 3;
    const r = ((p / W) | 0) * 3;
    const d = (px[i] - rowBg[r]) ** 2 + (px[i + 1] - rowBg[r + 1]) ** 2 + (px[i + 2] - rowBg[r + 2]) ** 2;
    if (d > th2) mask[p] = 1;
  }
  const label = new Int32Array(H * W);
  const comps = [];
  const minArea = Math.max(6, Math.round(0.0004 * H * W));
  const stack = new Int32Array(H * W);
  let nl = 0;
  for (let p0 = 0; p0 < H * W; p0++) {
    if (!mask[p0] || label[p0]) continue;
    nl++;
    let sp = 0;
    stack[sp++] = p0;
    label[p0] = nl;
    const pts = [];
    while (sp) {
      const p = stack[--sp];
      pts.push(p);
      const y = (p / W) | 0, x = p - y * W;
      if (x > 0 && mask[p - 1] && !label[p - 1]) { label[p - 1] = nl; stack[sp++] = p - 1; }
      if (x < W - 1 && mask[p + 1] && !label[p + 1]) { label[p + 1] = nl; stack[sp++] = p + 1; }
      if (y > 0 && mask[p - W] && !label[p - W]) { label[p - W] = nl; stack[sp++] = p - W; }
      if (y < H - 1 && mask[p + W] && !label[p + W]) { label[p + W] = nl; stack[sp++] = p + W; }
    }
    if (pts.length < minArea) continue;
    let sx = 0, sy = 0;
    for (const p of pts) { sy += (p / W) | 0; sx += p % W; }
    const cx = sx / pts.length, cy = sy / pts.length;
    let r2 = 0;
    const col = [0, 0, 0];
    let nin = 0;
    for (const p of pts) {
      const y = (p / W) | 0, x = p - y * W;
      const d = (x - cx) ** 2 + (y - cy) ** 2;
      if (d > r2) r2 = d;
      const interior = x > 0 && x < W - 1 && y > 0 && y < H - 1 &&
        label[p - 1] === nl && label[p + 1] === nl && label[p - W] === nl && label[p + W] === nl;
      if (interior) {
        const i = off + p * 3;
        col[0] += px[i]; col[1] += px[i + 1]; col[2] += px[i + 2]; nin++;
      }
    }
    if (!nin) {
      for (const p of pts) { const i = off + p * 3; col[0] += px[i]; col[1] += px[i + 1]; col[2] += px[i + 2]; }
      nin = pts.length;
    }
    const R = Math.sqrt(r2) + 0.5; // pixel-centre -> pixel-edge
    const fill = pts.length / (Math.PI * R * R);
    comps.push({
      area: pts.length, cx, cy, fill, shape: classifyShape(fill),
      rgb: col.map((c) => c / nin), color: nearestColor(col.map((c) => c / nin)),
    });
  }
  const top = nearestColor(bg);
  const bottom = nearestColor(bgBottom);
  return { bg, bgName: top === bottom ? top : `${top} to ${bottom}`, comps, mask };
}

function mode(arr) {
  const m = new Map();
  for (const a of arr) m.set(a, (m.get(a) || 0) + 1);
  let best = null, bc = -1;
  for (const [k, c] of m) if (c > bc) { bc = c; best = k; }
  return best;
}

/** video: Uint8Array [F,H,W,3] at byte offset `off`. Returns detected attributes. */
export function analyzeVideo(px, F, H, W, off = 0) {
  const frames = [];
  for (let f = 0; f < F; f++) frames.push(analyzeFrame(px, H, W, off + f * H * W * 3));
  const count = mode(frames.map((fr) => fr.comps.length));
  const background = mode(frames.map((fr) => fr.bgName));
  const color = mode(frames.flatMap((fr) => fr.comps.map((c) => c.color))) ?? 'none';
  // shape: majority over components in the frames with the largest foreground area
  const areas = frames.map((fr) => fr.comps.reduce((s, c) => s + c.area, 0));
  const order = [...areas.keys()].sort((a, b) => areas[b] - areas[a]);
  const top = order.slice(0, Math.max(1, Math.ceil(F / 4)));
  const shape = mode(top.flatMap((i) => frames[i].comps.map((c) => c.shape))) ?? 'none';
  // every object at once, for captions with two groups: the sorted "colour shape" list
  const objects = mode(top.map((i) => frames[i].comps.map((c) => `${c.color} ${c.shape}`).sort().join(', '))) ?? '';
  // motion from the union of components
  const tr = frames.map((fr) => {
    let a = 0, sx = 0, sy = 0;
    for (const c of fr.comps) { a += c.area; sx += c.cx * c.area; sy += c.cy * c.area; }
    return a ? { a, x: sx / a / W, y: sy / a / H } : null;
  });
  const valid = tr.map((t, i) => [t, i]).filter(([t]) => t);
  let motion = 'none';
  let iouMin = 1;
  if (valid.length >= 2) {
    const [first, i0] = valid[0];
    const [last] = valid[valid.length - 1];
    const dx = last.x - first.x, dy = last.y - first.y;
    const ys = valid.map(([t]) => t.y);
    const ry = Math.max(...ys) - Math.min(...ys);
    const ar = last.a / first.a;
    if (ry > 0.15 && Math.abs(dy) < 0.4 * ry && Math.abs(dx) < 0.1) motion = 'bouncing';
    else if (Math.max(Math.abs(dx), Math.abs(dy)) > 0.15) {
      motion = Math.abs(dx) > Math.abs(dy) ? (dx < 0 ? 'moving left' : 'moving right') : (dy < 0 ? 'moving up' : 'moving down');
    } else if (ar > 1.6) motion = 'growing';
    else if (ar < 1 / 1.6) motion = 'shrinking';
    else {
      const m0 = frames[i0].mask;
      for (const [, i] of valid) {
        const m = frames[i].mask;
        let inter = 0, uni = 0;
        for (let p = 0; p < m.length; p++) { inter += m[p] & m0[p]; uni += m[p] | m0[p]; }
        if (uni) iouMin = Math.min(iouMin, inter / uni);
      }
      motion = iouMin < 0.85 ? 'spinning' : 'static';
    }
  }
  return { count, color, shape, objects, motion, background, iouMin };
}

/** expected: { count, color, shape, motion, background, and?: { count, color, shape }, background2? } */
export function score(expected, got) {
  // a spinning circle looks static, and beside circles a spinning shape moves too little of the union to see
  const circle = expected.shape === 'circle' || expected.and?.shape === 'circle';
  const motionOk = got.motion === expected.motion ||
    (expected.motion === 'spinning' && circle && got.motion === 'static');
  const background = expected.background2 ? `${expected.background} to ${expected.background2}` : expected.background;
  const total = expected.count + (expected.and?.count ?? 0);
  let color = got.color === expected.color;
  let shape = got.shape === expected.shape;
  if (expected.and) {
    // two groups: colour and shape are right when every object has its colour / its (colour, shape)
    const groups = [expected, expected.and];
    const objs = got.objects ? got.objects.split(', ') : [];
    const want = groups.flatMap((g) => Array(g.count).fill(`${g.color} ${g.shape}`)).sort();
    color = objs.map((o) => o.split(' ')[0]).sort().join() === want.map((o) => o.split(' ')[0]).sort().join();
    shape = objs.join() === want.join();
  }
  return {
    count: got.count === total ? 1 : 0,
    color: color ? 1 : 0,
    shape: shape ? 1 : 0,
    motion: motionOk ? 1 : 0,
    background: got.background === background ? 1 : 0,
  };
}

// ---------------------------------------------------------------- eval prompts
const COUNT_WORD = { 1: 'a', 2: 'two', 3: 'three' };
export const COLORS = Object.keys(PALETTE);
export const SHAPES = ['circle', 'square', 'triangle'];
export const MOTIONS = ['moving left', 'moving right', 'moving up', 'moving down', 'bouncing', 'growing', 'shrinking', 'spinning'];

const nounPhrase = (g) => `${COUNT_WORD[g.count]} ${g.color} ${g.shape}${g.count > 1 ? 's' : ''}`;

export function promptFor(e) {
  const objs = e.and ? `${nounPhrase(e)} and ${nounPhrase(e.and)}` : nounPhrase(e);
  const bg = e.background2 ? `${e.background} to ${e.background2} gradient` : e.background;
  return `${objs} ${e.motion} on a ${bg} background`;
}

/** Held-out set: every held-out (colour, shape, motion) x count 1..3 x `perCount` random backgrounds/seeds.
 *  Deterministically shuffled so that --subset N is a spread-out sample. */
export function heldoutSet(manifest, perCount = 2, seed = 20261124) {
  const r = mulberry32(seed);
  const items = [];
  for (const comp of manifest.eval.heldout_compositions) {
    const shape = SHAPES.find((s) => comp.includes(` ${s} `));
    const color = comp.split(' ')[0];
    const motion = comp.slice(color.length + shape.length + 2);
    for (const count of [1, 2, 3]) {
      for (let k = 0; k < perCount; k++) {
        let background;
        do background = COLORS[Math.floor(r() * COLORS.length)]; while (background === color);
        const e = { count, color, shape, motion, background };
        items.push({ ...e, prompt: promptFor(e), seed: Math.floor(r() * 2 ** 31) });
      }
    }
  }
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** Random compositions that *were* in the training distribution (for comparison). */
export function seenSet(manifest, n = 96, seed = 777) {
  const r = mulberry32(seed);
  const held = new Set(manifest.eval.heldout_compositions);
  const items = [];
  while (items.length < n) {
    const color = COLORS[Math.floor(r() * COLORS.length)];
    const shape = SHAPES[Math.floor(r() * 3)];
    const motion = MOTIONS[Math.floor(r() * MOTIONS.length)];
    if (held.has(`${color} ${shape} ${motion}`)) continue;
    const background = COLORS[Math.floor(r() * COLORS.length)];
    if (background === color) continue;
    const count = 1 + Math.floor(r() * 3);
    const e = { count, color, shape, motion, background };
    items.push({ ...e, prompt: promptFor(e), seed: Math.floor(r() * 2 ** 31) });
  }
  return items;
}

/** Beyond the core grammar, alternating: two object groups joined by "and", and one group on a
 *  vertical gradient background. Colours of objects and backgrounds all differ. */
export function extendedSet(manifest, n = 48, seed = 4242) {
  const r = mulberry32(seed);
  const pick = (arr) => arr[Math.floor(r() * arr.length)];
  const items = [];
  while (items.length < n) {
    const gradient = items.length % 2 === 1;
    const color = pick(COLORS);
    const shape = pick(SHAPES);
    const motion = pick(MOTIONS);
    const [count, count2] = gradient ? [1 + Math.floor(r() * 3), 0] : pick([[1, 1], [1, 2], [2, 1]]);
    let and;
    if (count2) {
      let c2, s2;
      do { c2 = pick(COLORS); s2 = pick(SHAPES); } while (c2 === color && s2 === shape);
      and = { count: count2, color: c2, shape: s2 };
    }
    const used = new Set([color, and?.color]);
    const free = COLORS.filter((c) => !used.has(c));
    const background = pick(free);
    const e = { count, color, shape, motion, background };
    if (and) e.and = and;
    if (gradient) e.background2 = pick(free.filter((c) => c !== background));
    items.push({ ...e, prompt: promptFor(e), seed: Math.floor(r() * 2 ** 31) });
  }
  return items;
}

/** Held-out paraphrases (eval-paraphrase.json, from train_text.py): synonyms and templates that no
 *  training caption used, of compositions the decoders were trained on, plus hand-written prompts. */
export function paraphraseSet(dir = MODEL_DIR) {
  return JSON.parse(readFileSync(join(dir, 'eval-paraphrase.json'), 'utf8')).items;
}

export function tierFrames(tier) {
  return Math.max(1, Math.round(tier.fps * tier.duration_s));
}

// ---------------------------------------------------------------- command line
/**
 * The flags every eval script takes (see eval.mjs's header); `extra` maps a script's own flags to
 * handlers `(args, next) => void`. --speed defaults to on for a full run, off for a --subset.
 */
export function parseEvalArgs(argv, defaults = {}, extra = {}) {
  const a = { subset: 0, json: false, minAccuracy: null, write: false, speed: null, split: 'heldout', perCount: 2, threads: 2, batch: 4, ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const next = () => argv[++i];
    if (k === '--subset') a.subset = parseInt(next(), 10);
    else if (k === '--json') a.json = true;
    else if (k === '--min-accuracy') { let v = parseFloat(next()); if (v > 1) v /= 100; a.minAccuracy = v; }
    else if (k === '--write') a.write = true;
    else if (k === '--speed') a.speed = true;
    else if (k === '--no-speed') a.speed = false;
    else if (k === '--split') a.split = next();
    else if (k === '--per-count') a.perCount = parseInt(next(), 10);
    else if (k === '--threads') a.threads = parseInt(next(), 10);
    else if (k === '--batch') a.batch = parseInt(next(), 10);
    else if (Object.hasOwn(extra, k)) extra[k](a, next);
    else if (k === '--help' || k === '-h') { console.log('see the header of the eval script'); process.exit(0); }
    else throw new Error(`unknown flag ${k} (see the header of the eval script)`);
  }
  if (a.speed === null) a.speed = !a.subset;
  return a;
}
