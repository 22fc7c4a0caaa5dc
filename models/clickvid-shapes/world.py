"""clickvid-shapes procedural captioned world.

A tiny, fully deterministic world of flat-coloured shapes on a flat background.
Every clip is described by a *spec* (count, colour, shape, motion, background,
optional size/speed words) plus an 8-dim uniform noise vector u (the "seed":
start position, exact shades, size jitter, spin direction).  The renderer draws
anti-aliased frames analytically (signed distance -> coverage) at any resolution
and any normalized time t in [0, 1], so a motion always spans the whole clip.

This file is the *training-data generator* and the ground truth for the
grammar.  The shipped ONNX model never calls it: the model has to learn the
mapping (tokens, noise, t) -> pixels from examples rendered here.

Coordinates: x, y in [-1, 1], y pointing down.  Sizes are in the same units.
"""
import math
import random
import re

import torch

COLORS = {
    "red": (220, 30, 30),
    "orange": (245, 140, 20),
    "yellow": (240, 220, 30),
    "green": (40, 170, 50),
    "cyan": (30, 210, 220),
    "blue": (30, 60, 220),
    "purple": (120, 40, 170),
    "magenta": (230, 40, 200),
    "white": (245, 245, 245),
    "gray": (128, 128, 128),
    "black": (15, 15, 15),
}
COLOR_NAMES = list(COLORS)
SHAPES = ["circle", "square", "triangle"]
MOTIONS = ["moving left", "moving right", "moving up", "moving down",
           "bouncing", "growing", "shrinking", "spinning"]
COUNTS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3}
SIZES = {"small": 0.72, "big": 1.3}
SPEEDS = {"slowly": 0.6, "quickly": 1.35}

MAX_OBJ = 3          # model slots
NOISE_DIM = 8
MAX_TOKENS = 24
SHADE = 24.0         # +- brightness jitter (0..255 units) drawn from noise

# The tokenizer's words (model 2.1: the paraphrase vocabulary; its first 40 tokens are 2.0's).
from lexicon import ALIASES, FUNCTION_WORDS, VOCAB  # noqa: E402

# Compositions (colour, shape, motion) never rendered during training.
HELDOUT = [
    ("red", "square", "moving up"), ("orange", "triangle", "spinning"),
    ("yellow", "circle", "moving left"), ("green", "square", "bouncing"),
    ("cyan", "triangle", "growing"), ("blue", "circle", "shrinking"),
    ("purple", "square", "moving right"), ("magenta", "triangle", "moving down"),
    ("white", "circle", "bouncing"), ("gray", "triangle", "moving left"),
    ("black", "square", "spinning"), ("red", "circle", "growing"),
    ("blue", "triangle", "moving right"), ("green", "circle", "moving down"),
    ("orange", "square", "shrinking"), ("yellow", "triangle", "moving up"),
]
HELDOUT_SET = set(HELDOUT)


# What a caption says, as classes: the text encoder is trained to read these out of the tokens.
# "...2" = the second object group ("a red circle and two blue squares") and the gradient's second colour.
ATTRIBUTES = {"count": 3, "color": len(COLOR_NAMES), "shape": len(SHAPES), "motion": len(MOTIONS) + 1,
              "size": 1 + len(SIZES), "speed": 1 + len(SPEEDS), "bg": len(COLOR_NAMES),
              "count2": 3, "color2": len(COLOR_NAMES), "shape2": len(SHAPES), "size2": 1 + len(SIZES),
              "bg2": 1 + len(COLOR_NAMES)}
IGNORE = -100    # attribute of a group the caption does not have (not scored)


def attributes(spec):
    """spec -> class index per attribute (motion/size/speed/count2/size2/bg2: 0 = not said)."""
    size_ix = lambda w: 0 if w is None else 1 + list(SIZES).index(w)
    g2 = spec["second"]
    return {"count": spec["count"] - 1, "color": COLOR_NAMES.index(spec["color"]),
            "shape": SHAPES.index(spec["shape"]),
            "motion": 0 if spec["motion"] is None else 1 + MOTIONS.index(spec["motion"]),
            "size": size_ix(spec["size"]),
            "speed": 0 if spec["speed"] is None else 1 + list(SPEEDS).index(spec["speed"]),
            "bg": COLOR_NAMES.index(spec["bg"]),
            "count2": 0 if g2 is None else g2["count"],
            "color2": IGNORE if g2 is None else COLOR_NAMES.index(g2["color"]),
            "shape2": IGNORE if g2 is None else SHAPES.index(g2["shape"]),
            "size2": 0 if g2 is None else size_ix(g2["size"]),
            "bg2": 0 if spec["bg2"] is None else 1 + COLOR_NAMES.index(spec["bg2"])}


def objects(spec):
    """The drawn objects in slot order: (shape, colour, size word, group 0|1)."""
    out = [(spec["shape"], spec["color"], spec["size"], 0)] * spec["count"]
    if spec["second"]:
        g = spec["second"]
        out += [(g["shape"], g["color"], g["size"], 1)] * g["count"]
    return out


def heldout_names():
    return [f"{c} {s} {m}" for c, s, m in HELDOUT]


# ----------------------------------------------------------------- tokenizer
_IDS = {w: i for i, w in enumerate(VOCAB)}


def words(prompt):
    """Lower case, split on anything not a-z0-9, aliased (packages/core/src/tokenizer.ts does the same)."""
    return [ALIASES.get(w, w) for w in re.split(r"[^a-z0-9]+", prompt.lower()) if w]


def tokenize(prompt):
    ids = [_IDS.get(w, 1) for w in words(prompt)][:MAX_TOKENS]
    return ids + [0] * (MAX_TOKENS - len(ids))


# ----------------------------------------------------------------- grammar
def noun_phrase(n, size, color, shape, rng):
    cw = {1: rng.choice(["a", "a", "one"]), 2: "two", 3: "three"}[n]
    size = (size + " ") if size else ""
    return f"{cw} {size}{color} {shape}{'s' if n > 1 else ''}"


def make_prompt(spec, rng):
    """spec -> one of several surface forms of the caption."""
    obj = noun_phrase(spec["count"], spec["size"], spec["color"], spec["shape"], rng)
    if spec["second"]:
        g = spec["second"]
        obj += " and " + noun_phrase(g["count"], g["size"], g["color"], g["shape"], rng)
    mot = spec["motion"] or ""
    if spec["speed"] and mot:
        if rng.random() < 0.5:
            mot = f"{mot} {spec['speed']}"
        else:
            mot = f"{spec['speed']} {mot}"
    parts = [obj]
    if mot:
        parts.append(mot)
    if spec["bg2"]:
        parts.append(f"on a {spec['bg']} {rng.choice(['to', 'and'])} {spec['bg2']} gradient background")
    elif spec["bg_word"]:
        parts.append(rng.choice(["on a", "on a", "on the"]) + f" {spec['bg_word']} background")
    return " ".join(parts)


def sample_spec(rng, allow_heldout=False, extras=True):
    while True:
        color = rng.choice(COLOR_NAMES)
        shape = rng.choice(SHAPES)
        motion = rng.choice(MOTIONS)
        if not allow_heldout and (color, shape, motion) in HELDOUT_SET:
            continue
        bg = rng.choice(COLOR_NAMES)
        if bg == color:
            continue
        break
    spec = {"count": rng.choice([1, 1, 2, 3]), "color": color, "shape": shape,
            "motion": motion, "bg": bg, "bg_word": bg, "size": None, "speed": None, "second": None, "bg2": None}
    if extras:
        r = rng.random()
        if r < 0.06:                      # no motion word -> static
            spec["motion"] = None
        elif r < 0.09:                    # no background clause -> black
            spec["bg_word"] = None
            spec["bg"] = "black"
            if color == "black":
                spec["color"] = "white"
        if rng.random() < 0.2:
            spec["size"] = rng.choice(list(SIZES))
        if spec["motion"] and rng.random() < 0.2:
            spec["speed"] = rng.choice(list(SPEEDS))
        if spec["count"] < 3 and rng.random() < 0.2:      # "... and <a second group>"
            while True:
                c2, s2 = rng.choice(COLOR_NAMES), rng.choice(SHAPES)
                if c2 == spec["bg"] or (c2, s2) == (spec["color"], spec["shape"]):
                    continue
                if not allow_heldout and (c2, s2, spec["motion"]) in HELDOUT_SET:
                    continue
                break
            spec["second"] = {"count": rng.randint(1, 3 - spec["count"]), "color": c2, "shape": s2,
                              "size": rng.choice(list(SIZES)) if rng.random() < 0.2 else None}
        if spec["bg_word"] and rng.random() < 0.15:       # vertical gradient, top colour to bottom colour
            used = {spec["bg"], spec["color"]} | ({spec["second"]["color"]} if spec["second"] else set())
            spec["bg2"] = rng.choice([c for c in COLOR_NAMES if c not in used])
    return spec


# ----------------------------------------------------------------- geometry
CIRCUM = 1.15   # max circumradius of any shape in units of s


def layout(spec, u):
    """u: sequence of 8 floats in [0,1).  Returns the objects' base sizes (slot order) and a
    function t -> list of (cx, cy, scale, angle); all objects form one row."""
    objs = objects(spec)
    n = len(objs)
    base = {1: 0.2, 2: 0.17, 3: 0.14}[n] * (1.0 + 0.16 * (u[4] - 0.5))
    sizes = [base * (SIZES[w] if w else 1.0) for (_, _, w, _) in objs]
    s = max(sizes)
    speed = SPEEDS.get(spec["speed"], 1.0) if spec["speed"] else 1.0
    motion = spec["motion"]
    grow_max = 1.3 if motion in ("growing", "shrinking") else 1.0
    R = CIRCUM * s * grow_max          # bounding radius of one object
    gap = 2 * R + 0.12                 # centre spacing inside the group
    span = gap * (n - 1)               # group extent along its axis (centre to centre)
    lim = 1.0 - R - 0.03               # centres must stay inside [-lim, lim]
    axis = "y" if motion in ("moving left", "moving right") else "x"

    def place(a, lo, hi):
        return lo + a * max(hi - lo, 0.0)

    # group centre along the group axis (perpendicular to translation)
    g_lo, g_hi = -lim + span / 2, lim - span / 2
    travel = 0.0
    if motion in ("moving left", "moving right", "moving up", "moving down"):
        travel = min(1.05 * speed, 2 * lim - 0.05)
    if motion in ("moving left", "moving right"):
        gy = place(u[1], g_lo, g_hi)
        x0 = place(u[0], -lim, lim - travel)
        if motion == "moving left":
            x0 = -x0
        path = lambda t, x0=x0, gy=gy: (x0 + (travel if motion == "moving right" else -travel) * t, gy)
    elif motion in ("moving up", "moving down"):
        gx = place(u[0], g_lo, g_hi)
        y0 = place(u[1], -lim, lim - travel)
        if motion == "moving up":
            y0 = -y0
        path = lambda t, y0=y0, gx=gx: (gx, y0 + (travel if motion == "moving down" else -travel) * t)
    elif motion == "bouncing":
        gx = place(u[0], g_lo, g_hi)
        floor = lim - 0.12 * u[1]
        H = min(0.95 * speed, floor + lim)
        nb = 2
        path = lambda t, gx=gx, floor=floor, H=H: (gx, floor - H * abs(math.sin(math.pi * nb * t)))
    else:
        gx = place(u[0], g_lo, g_hi)
        gy = place(u[1], -lim, lim)
        path = lambda t, gx=gx, gy=gy: (gx, gy)

    spin_dir = 1.0 if u[6] < 0.5 else -1.0

    def at(t):
        px, py = path(t)
        scale = 1.0
        if motion == "growing":
            scale = 0.55 + (1.3 - 0.55) * t
        elif motion == "shrinking":
            scale = 1.3 - (1.3 - 0.55) * t
        ang = 0.0
        if motion == "spinning":
            ang = spin_dir * math.pi * speed * t
        objs = []
        for i in range(n):
            off = -span / 2 + gap * i
            if axis == "y":
                objs.append((px, py + off, scale, ang))
            else:
                objs.append((px + off, py, scale, ang))
        return objs
    return sizes, at


def shade(rgb, a):
    d = SHADE * (2 * a - 1)
    return tuple(min(255.0, max(0.0, c + d)) / 255.0 for c in rgb)


def colors_for(spec, u):
    """-> per-object RGB (slot order), background RGB at the top and at the bottom (0..1)"""
    objs = [shade(COLORS[c], u[5] if g else u[2]) for (_, c, _, g) in objects(spec)]
    top = shade(COLORS[spec["bg"]], u[3])
    bottom = shade(COLORS[spec["bg2"]], u[7]) if spec["bg2"] else top
    return objs, top, bottom


def shape_sdf(shape, X, Y, cx, cy, s, ang):
    """Signed distance (negative inside), vectorised over leading dims.
    X, Y: [..., H, W]; cx, cy, s, ang: [...,1,1] tensors."""
    dx, dy = X - cx, Y - cy
    c, sn = torch.cos(ang), torch.sin(ang)
    lx = c * dx + sn * dy
    ly = -sn * dx + c * dy
    if shape == "circle":
        return torch.sqrt(lx * lx + ly * ly) - 0.9 * s
    if shape == "square":
        h = 0.8 * s
        qx, qy = lx.abs() - h, ly.abs() - h
        outside = torch.sqrt(qx.clamp(min=0) ** 2 + qy.clamp(min=0) ** 2)
        inside = torch.minimum(torch.maximum(qx, qy), torch.zeros_like(qx))
        return outside + inside
    # equilateral triangle, circumradius 1.15 s, pointing up (y down => -y)
    r = CIRCUM * s
    k = math.sqrt(3.0)
    px, py = lx, -ly
    side = r * k
    # iq's sdEquilateralTriangle with side length 'side', centroid at origin
    hs = side / 2
    px = px.abs() - hs
    py = py + hs / k
    m = px + k * py > 0
    npx = torch.where(m, (px - k * py) / 2, px)
    npy = torch.where(m, (-k * px - py) / 2, py)
    npx = npx - torch.minimum(torch.maximum(npx, -2 * hs), torch.zeros_like(npx))
    return -torch.sqrt(npx * npx + npy * npy) * torch.sign(npy)


def object_params(specs, noises, times, slots=MAX_OBJ):
    """Flat list of drawn objects: (frame b, slot i, shape, cx, cy, size, angle), per-slot colours
    obj_rgb [B,slots,3] and the background at the top and the bottom, bg_rgb / bg2_rgb [B,3]."""
    objs = []
    obj_rgb = torch.zeros(len(specs), slots, 3)
    bg_rgb = torch.zeros(len(specs), 3)
    bg2_rgb = torch.zeros(len(specs), 3)
    for b, (spec, u, t) in enumerate(zip(specs, noises, times)):
        sizes, at = layout(spec, u)
        cols, top, bottom = colors_for(spec, u)
        bg_rgb[b] = torch.tensor(top)
        bg2_rgb[b] = torch.tensor(bottom)
        kinds = objects(spec)
        for i, (cx, cy, sc, ang) in enumerate(at(float(t))):
            obj_rgb[b, i] = torch.tensor(cols[i])
            objs.append((b, i, kinds[i][0], cx, cy, sizes[i] * sc, ang))
    return objs, obj_rgb, bg_rgb, bg2_rgb


def coverage(objs, X, Y, px, alpha):
    """Anti-aliased coverage of each object at pixel centres X, Y [B,...] into alpha [B,slots,...]."""
    for sh in SHAPES:
        lst = [o for o in objs if o[2] == sh]
        if not lst:
            continue
        bi = torch.tensor([o[0] for o in lst])
        si = torch.tensor([o[1] for o in lst])
        P = torch.tensor([o[3:] for o in lst], dtype=torch.float32)
        cx, cy, ss, ang = [P[:, j].view(-1, *([1] * (X.dim() - 1))) for j in range(4)]
        alpha[bi, si] = (0.5 - shape_sdf(sh, X[bi], Y[bi], cx, cy, ss, ang) / px).clamp(0, 1)


def composite(alpha, obj_rgb, bg_rgb, bg2_rgb, Y):
    """alpha [B,slots,...], Y [B,...] pixel rows in [-1,1] -> image [B,3,...] (vertical gradient background)."""
    B = alpha.shape[0]
    shp = (B, 3) + (1,) * (alpha.dim() - 2)
    v = ((Y + 1) / 2).unsqueeze(1)
    bg = bg_rgb.view(shp) + (bg2_rgb - bg_rgb).view(shp) * v
    a_sum = alpha.sum(1, keepdim=True).clamp(max=1.0)
    obj = torch.einsum("bk...,bkc->bc...", alpha, obj_rgb)
    return bg * (1 - a_sum) + obj


def render_batch(specs, noises, times, res, slots=MAX_OBJ):
    """Render one full frame per (spec, noise, t).
    Returns dict: image [B,3,res,res] float 0..1, alpha [B,slots,res,res], obj_rgb [B,slots,3],
    bg_rgb / bg2_rgb [B,3] (top / bottom of the background)."""
    B = len(specs)
    coords = (torch.arange(res, dtype=torch.float32) + 0.5) / res * 2 - 1
    Y, X = torch.meshgrid(coords, coords, indexing="ij")
    X, Y = X.expand(B, res, res), Y.expand(B, res, res)
    objs, obj_rgb, bg_rgb, bg2_rgb = object_params(specs, noises, times, slots)
    alpha = torch.zeros(B, slots, res, res)
    coverage(objs, X, Y, 2.0 / res, alpha)
    return {"image": composite(alpha, obj_rgb, bg_rgb, bg2_rgb, Y), "alpha": alpha,
            "obj_rgb": obj_rgb, "bg_rgb": bg_rgb, "bg2_rgb": bg2_rgb}


def render_cells(specs, noises, times, grid, f, S, gen, slots=MAX_OBJ):
    """Sparse training renderer.  The frame (resolution grid*f) is split into grid x grid cells of
    f x f pixels; S cells per frame are chosen (every cell near an object first, then random ones)
    and only their pixels are rendered.
    Returns idx [N,S] (cell ids, row-major), alpha [N,slots,S,f*f], image [N,3,S,f*f],
    obj_rgb [N,slots,3], bg_rgb / bg2_rgb [N,3], present [N,slots], objs."""
    N = len(specs)
    res = grid * f
    objs, obj_rgb, bg_rgb, bg2_rgb = object_params(specs, noises, times, slots)
    cc = (torch.arange(grid, dtype=torch.float32) + 0.5) / grid * 2 - 1
    cy, cx = torch.meshgrid(cc, cc, indexing="ij")
    cx, cy = cx.reshape(-1), cy.reshape(-1)                       # [G*G]
    near = torch.zeros(N, grid * grid)
    present = torch.zeros(N, slots)
    if objs:
        ob = torch.tensor([o[0] for o in objs])
        P = torch.tensor([o[3:6] for o in objs], dtype=torch.float32)
        d = torch.sqrt((cx[None] - P[:, 0:1]) ** 2 + (cy[None] - P[:, 1:2]) ** 2)
        hit = (d < CIRCUM * P[:, 2:3] + 1.6 * 2.0 / grid).float()
        near.index_add_(0, ob, hit)
        present[ob, torch.tensor([o[1] for o in objs])] = 1.0
    score = (near > 0).float() + 0.9 * torch.rand(N, grid * grid, generator=gen)
    idx = score.topk(S, dim=1).indices                            # [N,S]
    # pixel centres of the selected cells: [N,S,f*f]
    sub = (torch.arange(f, dtype=torch.float32) + 0.5) / res * 2
    sy, sx = torch.meshgrid(sub, sub, indexing="ij")
    X = (cx[idx] - 1.0 / grid).unsqueeze(-1) + sx.reshape(1, 1, -1)
    Y = (cy[idx] - 1.0 / grid).unsqueeze(-1) + sy.reshape(1, 1, -1)
    alpha = torch.zeros(N, slots, S, f * f)
    coverage(objs, X, Y, 2.0 / res, alpha)
    return {"idx": idx, "alpha": alpha, "image": composite(alpha, obj_rgb, bg_rgb, bg2_rgb, Y),
            "obj_rgb": obj_rgb, "bg_rgb": bg_rgb, "bg2_rgb": bg2_rgb, "Y": Y, "present": present, "objs": objs}


if __name__ == "__main__":
    # quick visual check: python world.py out.png
    import sys
    import subprocess
    import numpy as np
    rng = random.Random(0)
    specs, noises, times = [], [], []
    for i in range(16):
        sp = sample_spec(rng)
        u = [rng.random() for _ in range(NOISE_DIM)]
        for t in (0.0, 0.5, 1.0):
            specs.append(sp); noises.append(u); times.append(t)
        print(make_prompt(sp, rng))
    out = render_batch(specs, noises, times, 128)["image"]
    grid = out.view(16, 3, 3, 128, 128).permute(0, 3, 1, 4, 2).reshape(16 * 128, 3 * 128, 3)
    img = (grid.numpy() * 255).round().astype(np.uint8)
    path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/world.png"
    h, w, _ = img.shape
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
                    "-s", f"{w}x{h}", "-i", "-", path], input=img.tobytes(), check=True)
