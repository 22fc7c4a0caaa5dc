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
MAX_TOKENS = 16
SHADE = 24.0         # +- brightness jitter (0..255 units) drawn from noise

VOCAB = (["<pad>", "<unk>", "a", "an", "one", "two", "three", "the", "on", "background", "and"]
         + COLOR_NAMES + SHAPES
         + ["moving", "left", "right", "up", "down", "bouncing", "growing", "shrinking", "spinning"]
         + list(SIZES) + list(SPEEDS))
ALIASES = {"grey": "gray", "circles": "circle", "squares": "square", "triangles": "triangle",
           "large": "big", "tiny": "small", "little": "small", "fast": "quickly", "quick": "quickly",
           "slow": "slowly", "rotating": "spinning", "turning": "spinning", "bouncy": "bouncing",
           "bounces": "bouncing", "grows": "growing", "shrinks": "shrinking", "spins": "spinning",
           "violet": "purple", "pink": "magenta", "aqua": "cyan"}
FUNCTION_WORDS = ["a", "an", "the", "on", "background", "and", "moving"]

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


def heldout_names():
    return [f"{c} {s} {m}" for c, s, m in HELDOUT]


# ----------------------------------------------------------------- tokenizer
def tokenize(prompt):
    import re
    ids = []
    for w in re.split(r"[^a-z0-9]+", prompt.lower()):
        if not w:
            continue
        w = ALIASES.get(w, w)
        ids.append(VOCAB.index(w) if w in VOCAB else 1)
    ids = ids[:MAX_TOKENS]
    return ids + [0] * (MAX_TOKENS - len(ids))


# ----------------------------------------------------------------- grammar
def make_prompt(spec, rng):
    """spec -> one of several surface forms of the caption."""
    n = spec["count"]
    cw = {1: rng.choice(["a", "a", "one"]), 2: "two", 3: "three"}[n]
    if spec["color"] is None:
        cw_ = ""
    else:
        cw_ = spec["color"] + " "
    size = (spec["size"] + " ") if spec["size"] else ""
    shape = spec["shape"] + ("s" if n > 1 else "")
    obj = f"{cw} {size}{cw_}{shape}"
    mot = spec["motion"] or ""
    if spec["speed"] and mot:
        if rng.random() < 0.5:
            mot = f"{mot} {spec['speed']}"
        else:
            mot = f"{spec['speed']} {mot}"
    parts = [obj]
    if mot:
        parts.append(mot)
    if spec["bg_word"]:
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
            "motion": motion, "bg": bg, "bg_word": bg, "size": None, "speed": None}
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
    return spec


# ----------------------------------------------------------------- geometry
CIRCUM = 1.15   # max circumradius of any shape in units of s


def layout(spec, u):
    """Per-object parameters as plain python: list of dicts with cx(t) etc.
    u: sequence of 8 floats in [0,1).  Returns a function t -> list of
    (cx, cy, scale, angle) and base size s."""
    n = spec["count"]
    s = {1: 0.2, 2: 0.17, 3: 0.14}[n]
    s *= SIZES.get(spec["size"], 1.0) if spec["size"] else 1.0
    s *= 1.0 + 0.16 * (u[4] - 0.5)
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
    return s, at


def shade(rgb, a):
    d = SHADE * (2 * a - 1)
    return tuple(min(255.0, max(0.0, c + d)) / 255.0 for c in rgb)


def colors_for(spec, u):
    obj = shade(COLORS[spec["color"]], u[2])
    bg = shade(COLORS[spec["bg"]], u[3])
    return obj, bg


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


def render_batch(specs, noises, times, res, slots=MAX_OBJ):
    """Render one frame per (spec, noise, t).
    Returns dict: image [B,3,res,res] float 0..1, alpha [B,slots,res,res],
    obj_rgb [B,3], bg_rgb [B,3]."""
    B = len(specs)
    coords = (torch.arange(res, dtype=torch.float32) + 0.5) / res * 2 - 1
    Y, X = torch.meshgrid(coords, coords, indexing="ij")
    px = 2.0 / res
    alpha = torch.zeros(B, slots, res, res)
    obj_rgb = torch.zeros(B, 3)
    bg_rgb = torch.zeros(B, 3)
    # group by shape for vectorisation
    params = {sh: [] for sh in SHAPES}
    for b, (spec, u, t) in enumerate(zip(specs, noises, times)):
        s, at = layout(spec, u)
        o, g = colors_for(spec, u)
        obj_rgb[b] = torch.tensor(o)
        bg_rgb[b] = torch.tensor(g)
        for i, (cx, cy, sc, ang) in enumerate(at(float(t))):
            params[spec["shape"]].append((b, i, cx, cy, s * sc, ang))
    for sh, lst in params.items():
        if not lst:
            continue
        P = torch.tensor([p[2:] for p in lst], dtype=torch.float32)
        cx, cy, ss, ang = [P[:, j].view(-1, 1, 1) for j in range(4)]
        d = shape_sdf(sh, X, Y, cx, cy, ss, ang)
        cov = (0.5 - d / px).clamp(0, 1)
        bi = torch.tensor([p[0] for p in lst])
        si = torch.tensor([p[1] for p in lst])
        alpha[bi, si] = cov
    a_sum = alpha.sum(1, keepdim=True).clamp(max=1.0)
    image = bg_rgb.view(B, 3, 1, 1) * (1 - a_sum) + obj_rgb.view(B, 3, 1, 1) * a_sum
    return {"image": image, "alpha": alpha, "obj_rgb": obj_rgb, "bg_rgb": bg_rgb}


if __name__ == "__main__":
    # quick visual check: python world.py out.png
    import sys
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
    import subprocess
    h, w, _ = img.shape
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
                    "-s", f"{w}x{h}", "-i", "-", path], input=img.tobytes(), check=True)


def object_params(specs, noises, times):
    """Flat list of drawn objects: (frame b, slot i, shape, cx, cy, size, angle) + colours."""
    objs = []
    obj_rgb = torch.zeros(len(specs), 3)
    bg_rgb = torch.zeros(len(specs), 3)
    for b, (spec, u, t) in enumerate(zip(specs, noises, times)):
        s, at = layout(spec, u)
        o, g = colors_for(spec, u)
        obj_rgb[b] = torch.tensor(o)
        bg_rgb[b] = torch.tensor(g)
        for i, (cx, cy, sc, ang) in enumerate(at(float(t))):
            objs.append((b, i, spec["shape"], cx, cy, s * sc, ang))
    return objs, obj_rgb, bg_rgb


def render_cells(specs, noises, times, grid, f, S, gen, slots=MAX_OBJ):
    """Sparse training renderer.  The frame (resolution grid*f) is split into grid x grid cells of
    f x f pixels; S cells per frame are chosen (every cell near an object first, then random ones)
    and only their pixels are rendered.
    Returns idx [N,S] (cell ids, row-major), alpha [N,slots,S,f*f], image [N,3,S,f*f],
    obj_rgb [N,3], bg_rgb [N,3], present [N,slots]."""
    N = len(specs)
    res = grid * f
    objs, obj_rgb, bg_rgb = object_params(specs, noises, times)
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
    x0 = cx[idx] - 1.0 / grid
    y0 = cy[idx] - 1.0 / grid
    X = x0.unsqueeze(-1) + sx.reshape(1, 1, -1)
    Y = y0.unsqueeze(-1) + sy.reshape(1, 1, -1)
    alpha = torch.zeros(N, slots, S, f * f)
    px = 2.0 / res
    for sh in SHAPES:
        lst = [o for o in objs if o[2] == sh]
        if not lst:
            continue
        bi = torch.tensor([o[0] for o in lst])
        si = torch.tensor([o[1] for o in lst])
        Pp = torch.tensor([o[3:] for o in lst], dtype=torch.float32)
        ocx, ocy, oss, oang = [Pp[:, j].view(-1, 1, 1) for j in range(4)]
        dd = shape_sdf(sh, X[bi], Y[bi], ocx, ocy, oss, oang)
        alpha[bi, si] = (0.5 - dd / px).clamp(0, 1)
    a_sum = alpha.sum(1).clamp(max=1.0).unsqueeze(1)              # [N,1,S,ff]
    image = bg_rgb.view(N, 3, 1, 1) * (1 - a_sum) + obj_rgb.view(N, 3, 1, 1) * a_sum
    return {"idx": idx, "alpha": alpha, "image": image, "obj_rgb": obj_rgb, "bg_rgb": bg_rgb,
            "present": present, "objs": objs}
