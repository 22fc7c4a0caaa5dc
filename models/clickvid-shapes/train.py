#!/usr/bin/python3
"""Train + export + INT8-rewrite the clickvid-shapes text-to-video model.

One command (fixed seed, time budget):

    /usr/bin/python3 models/clickvid-shapes/train.py --minutes 25

Writes into models/clickvid-shapes/:
  fp32-128.<sha16>.onnx, int8-128.<sha16>.onnx, fp32-256.<sha16>.onnx, int8-256.<sha16>.onnx,
  manifest.json (accuracy / speed fields are then filled by `node eval.mjs --write`),
  checkpoint.pt (weights, not shipped; ignored by the manifest).

Architecture (text -> attribute posteriors -> factorised decoders -> learned signed-distance field):
  text encoder   token emb + positions -> 2 self-attention blocks -> one query per caption attribute
                 -> posteriors over count, colour, shape, motion, size, speed, background
  pose MLP       per (video, frame, slot): [count, motion, size, speed posteriors, noise, fourier(t), slot]
                 -> presence, centre, log size, rotation
  colours        object RGB from [colour posterior, noise]; background RGB from [background posterior, noise]
  field trunk    on a grid of cell centres, in the slot's object coordinates, biased by the shape posterior's
                 learned code: 5 features -> 64 -> ReLU -> 3 x (1x1 conv, ReLU) -> distance D, gradient (gx, gy)
  pixels         alpha = clip(0.5 - (s*D + g.offset) / pixel), first-order inside each cell (4x4 px)
                 video = bg + sum_k alpha_k (rgb - bg) -> round/clip -> uint8 -> DepthToSpace -> NHWC
All pixels come out of learned layers; there is no shape drawing code in the graph.
"""
import argparse
import hashlib
import json
import math
import os
import random
import sys
import time

# Threads yield instead of spin-waiting: 3-5x faster steps on a shared, oversubscribed 2-core box.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lexicon  # noqa: E402
import world  # noqa: E402

G = 32             # training field grid (cells per side); exports may use a finer grid
H1 = 64            # first field layer width
HID = 112          # trunk width
DEPTH = 3          # 1x1 conv layers in the trunk (before the heads)
NF = 5             # geometric input features per cell
LCLAMP = 4.0       # local coordinates clamped to +-4 object sizes
K = world.MAX_OBJ
D_TXT = 64
NT = 9             # time features
# The caption attributes the text encoder reads out (classes per attribute); see world.attributes().
ATTRS = world.ATTRIBUTES
POSE_ATTRS = ("count", "count2", "motion", "size", "size2", "speed")
POSE_IN = sum(ATTRS[a] for a in POSE_ATTRS)


def time_feats(t):
    fs = [t]
    for m in range(1, 5):
        fs.append(torch.sin(2 * math.pi * m * t))
        fs.append(torch.cos(2 * math.pi * m * t))
    return torch.stack(fs, -1)


def subpixel_offsets(f, grid):
    """Offsets of the f x f pixel centres of a cell from the cell centre (image units), row-major."""
    o = ((torch.arange(f, dtype=torch.float32) + 0.5) / f - 0.5) * (2.0 / grid)
    oy, ox = torch.meshgrid(o, o, indexing="ij")
    return ox.reshape(-1), oy.reshape(-1)


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.d = d
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ff1 = nn.Linear(d, 2 * d)
        self.ff2 = nn.Linear(2 * d, d)

    def forward(self, x, pad):
        q, k, v = self.qkv(x).chunk(3, -1)
        a = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(self.d) + pad, -1)
        x = x + self.proj(a @ v)
        return x + self.ff2(F.relu(self.ff1(x)))


class TextEncoder(nn.Module):
    """tokens -> a posterior over each caption attribute (count, colour, shape, motion, size,
    speed, background).  Two self-attention blocks give every token its context ("red" before
    "background" is the background); one learned query per attribute pools the tokens."""

    def __init__(self, V, L=world.MAX_TOKENS, d=D_TXT):
        super().__init__()
        self.d = d
        self.emb = nn.Embedding(V, d)
        self.pos = nn.Parameter(torch.randn(L, d) * 0.3)
        self.blocks = nn.ModuleList([Block(d), Block(d)])
        self.q = nn.Parameter(torch.randn(len(ATTRS), d) * 0.3)
        self.heads = nn.ModuleDict({a: nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, n)) for a, n in ATTRS.items()})

    def forward(self, tokens):
        """-> logits per attribute"""
        # tokens may come without their trailing padding (training): pads are masked out anyway
        x = self.emb(tokens) + self.pos[:tokens.shape[1]]
        pad = (tokens == 0).float().unsqueeze(1) * -1e4          # [B,1,L]
        for b in self.blocks:
            x = b(x, pad)
        pa = torch.softmax(self.q @ x.transpose(1, 2) / math.sqrt(self.d) + pad, -1)  # [B,A,L]
        pooled = pa @ x                                           # [B,A,d]
        return {a: self.heads[a](pooled[:, i]) for i, a in enumerate(ATTRS)}


class Generator(nn.Module):
    """Text -> attribute posteriors -> three factorised decoders:
      pose MLP   per (clip, frame, slot): [count, motion, size, speed posteriors of both object groups,
                 noise, fourier(t), slot] -> presence, centre, log size, rotation
      colours    RGB from [colour posterior, one noise value]: each group's objects, the background's top
                 and (for a gradient) bottom
      field      a learned signed-distance field of the slot's shape, in object coordinates: the slot's
                 shape posterior mixes learned shape codes into the first layer's bias; 1x1 convs on a grid
                 of cell centres predict the distance D and its gradient (gx, gy) at each cell centre
    A slot belongs to the first group while its index is below that group's count (a soft step of the
    count posterior), else to the second.
    Pixels: alpha = clip(0.5 - (distance at the pixel) / pixel size), the distance at a pixel being the
    first-order expansion s*D + g.(pixel - cell centre); video = bg(y) (1 - sum_k alpha_k) + sum_k alpha_k rgb_k."""

    def __init__(self, vocab_size=None):
        super().__init__()
        self.text = TextEncoder(vocab_size or len(world.VOCAB))
        self.slot = nn.Parameter(torch.randn(K, 16) * 0.5)
        pin = POSE_IN + world.NOISE_DIM + NT + 16
        self.pose_mlp = nn.Sequential(nn.Linear(pin, 160), nn.ReLU(), nn.Linear(160, 160), nn.ReLU(),
                                      nn.Linear(160, 160), nn.ReLU(), nn.Linear(160, 6))
        self.rgb = nn.Sequential(nn.Linear(ATTRS["color"] + 1, 64), nn.ReLU(), nn.Linear(64, 3))
        self.bg = nn.Sequential(nn.Linear(ATTRS["bg"] + 1, 64), nn.ReLU(), nn.Linear(64, 3))
        # in_first[c, k] = 1 when slot k belongs to the first group if that group has c+1 objects
        self.register_buffer("in_first", (torch.arange(3).view(3, 1) >= torch.arange(K).view(1, K)).float())
        self.codes = nn.Parameter(torch.randn(ATTRS["shape"], H1) * 0.3)
        self.l0 = nn.Linear(NF, H1, bias=False)
        self.convs = nn.ModuleList([nn.Conv2d(H1 if i == 0 else HID, HID, 1) for i in range(DEPTH)])
        self.hd = nn.Conv2d(HID, 1, 1)
        self.hg = nn.Conv2d(HID, 2, 1)

    def latents(self, tokens, noise, times):
        """-> raw pose [B*F*K,6], per-slot rgb [B,K,3] (0..1), background top and bottom [B,3] (0..1),
        per-slot shape code [B,K,H1], attribute logits"""
        B, Fr = times.shape
        L = self.text(tokens)
        P = {a: torch.softmax(l, -1) for a, l in L.items()}
        nz = noise * 2 - 1
        m = torch.cat([P[a] for a in POSE_ATTRS] + [nz], -1)
        z = torch.cat([m.unsqueeze(1).unsqueeze(2).expand(B, Fr, K, m.shape[-1]),
                       time_feats(times).unsqueeze(2).expand(B, Fr, K, NT),
                       self.slot.view(1, 1, K, 16).expand(B, Fr, K, 16)], -1)
        p = self.pose_mlp(z).reshape(-1, 6)
        first = (P["count"] @ self.in_first).unsqueeze(-1)                            # [B,K,1]
        rgb1 = torch.sigmoid(self.rgb(torch.cat([P["color"], nz[:, 2:3]], -1)))
        rgb2 = torch.sigmoid(self.rgb(torch.cat([P["color2"], nz[:, 5:6]], -1)))
        rgb = rgb2.unsqueeze(1) + first * (rgb1 - rgb2).unsqueeze(1)
        code1, code2 = P["shape"] @ self.codes, P["shape2"] @ self.codes
        code = code2.unsqueeze(1) + first * (code1 - code2).unsqueeze(1)
        top = torch.sigmoid(self.bg(torch.cat([P["bg"], nz[:, 3:4]], -1)))
        g = P["bg2"]
        other = torch.sigmoid(self.bg(torch.cat([g[:, 1:], nz[:, 7:8]], -1)))
        bottom = top + (1 - g[:, 0:1]) * (other - top)
        return p, rgb, top, bottom, code, L

    @staticmethod
    def decode_pose(p):
        pres = p[:, 0:1]
        cx, cy = p[:, 1:2], p[:, 2:3]
        s = 0.15 * torch.exp(torch.clamp(p[:, 3:4], -3.0, 2.0))
        n = torch.sqrt(p[:, 4:5] * p[:, 4:5] + p[:, 5:6] * p[:, 5:6] + 1e-4)
        return pres, cx, cy, s, p[:, 4:5] / n, p[:, 5:6] / n

    @staticmethod
    def local_feats(lx, ly, aug=False):
        fs = [lx, ly, 0.25 * lx * lx, 0.25 * ly * ly, 0.25 * lx * ly]
        if aug:
            fs.append(torch.ones_like(lx))
        return torch.stack(fs, -1)

    def features(self, pose, X, Y, aug=False):
        """pose tensors [M,1]; X, Y [M,S] or [1,S] -> geometric features [M,S,NF] (+ a ones column if aug)"""
        pres, cx, cy, s, c, sn = pose
        dx, dy = X - cx, Y - cy
        lx = torch.clamp((c * dx + sn * dy) / s, -LCLAMP, LCLAMP)
        ly = torch.clamp((c * dy - sn * dx) / s, -LCLAMP, LCLAMP)
        return self.local_feats(lx, ly, aug)

    def trunk(self, x):
        """x: first-layer pre-activations [M,H1,S,1] -> D [M,1,S,1], (gx, gy) [M,2,S,1] in object coordinates"""
        x = F.relu(x)
        for cv in self.convs:
            x = F.relu(cv(x))
        return self.hd(x), self.hg(x)

    def field_points(self, code, lx, ly):
        """Atlas path: code [M,H1], local points [M,S] -> D, gx, gy [M,S]"""
        M, S = lx.shape
        x = self.l0(self.local_feats(lx, ly)) + code.unsqueeze(1)        # [M,S,H1]
        x = x.reshape(-1, H1).t().reshape(1, H1, M * S, 1)
        D, Gr = self.trunk(x)
        return D.view(M, S), Gr[0, 0].view(M, S), Gr[0, 1].view(M, S)

    @staticmethod
    def alpha(pose, D, gx, gy, ox, oy, res):
        """Sub-pixel coverage.  D, gx, gy broadcast against ox, oy (offsets from the cell centre)."""
        pres, cx, cy, s, c, sn = pose
        gxi, gyi = c * gx - sn * gy, sn * gx + c * gy                    # gradient in image axes
        half = res / 2.0
        a0 = 0.5 - half * s * D - 12.0 * F.softplus(-pres)
        return torch.clamp(a0 - half * gxi * ox - half * gyi * oy, 0.0, 1.0)

    def forward_points(self, tokens, noise, times, idx, f):
        """Training path on sampled cells idx [N,S] (N=B*F) of the G x G grid, G*f pixels.
        Returns alpha [N,K,S,f*f], rgb [N,K,3], background top / bottom [N,3], raw pose [N*K,6]."""
        p, rgb, top, bottom, code, _ = self.latents(tokens, noise, times)
        B, Fr = times.shape
        N, S = idx.shape
        pose = self.decode_pose(p)
        cc = (torch.arange(G, dtype=torch.float32) + 0.5) / G * 2 - 1
        CX, CY = cc.repeat(G), cc.repeat_interleave(G)
        X = CX[idx].unsqueeze(1).expand(N, K, S).reshape(N * K, S)
        Y = CY[idx].unsqueeze(1).expand(N, K, S).reshape(N * K, S)
        ft = self.features(pose, X, Y)                                  # [NK,S,NF]
        codef = code.view(B, 1, K, H1).expand(B, Fr, K, H1).reshape(N * K, 1, H1)
        x = (self.l0(ft) + codef).reshape(-1, H1).t().reshape(1, H1, N * K * S, 1)
        D, Gr = self.trunk(x)
        D = D.view(N * K, S, 1)
        gx, gy = Gr[0, 0].view(N * K, S, 1), Gr[0, 1].view(N * K, S, 1)
        ox, oy = subpixel_offsets(f, G)
        pose3 = [t.view(N * K, 1, 1) for t in pose]
        a = self.alpha(pose3, D, gx, gy, ox.view(1, 1, -1), oy.view(1, 1, -1), G * f)
        per_frame = lambda t: t.unsqueeze(1).expand(B, Fr, *t.shape[1:]).reshape(N, *t.shape[1:])
        return a.view(N, K, S, f * f), per_frame(rgb), per_frame(top), per_frame(bottom), p

    def export_forward(self, tokens, noise, times, grid, f, nhwc=False):
        """uint8 video [B,F,H,W,3] at grid*f pixels: the field runs on a grid x grid lattice of cells."""
        p, rgb, top, bottom, code, _ = self.latents(tokens, noise, times)
        B, Fr = times.shape
        NK = p.shape[0]
        pose = self.decode_pose(p)
        cc = (torch.arange(grid, dtype=torch.float32) + 0.5) / grid * 2 - 1
        CX, CY = cc.repeat(grid).view(1, -1), cc.repeat_interleave(grid).view(1, -1)
        ft = self.features(pose, CX, CY, aug=True)                                  # [NK,GG,NF+1]
        # first field layer with the clip's shape code folded in as the weight row of a ones feature
        codef = code.view(B, 1, K, H1).expand(B, Fr, K, H1).reshape(NK, 1, H1)
        W = torch.cat([self.l0.weight.t().unsqueeze(0).expand(NK, NF, H1), codef], 1)   # [NK,NF+1,H1]
        if nhwc:     # channels-last first layer (lets ORT's NHWC QLinearConv skip a layout transpose)
            x = torch.matmul(ft, W).view(-1, grid, grid, H1).permute(0, 3, 1, 2)
        else:
            x = torch.matmul(W.transpose(1, 2), ft.transpose(1, 2)).view(-1, H1, grid, grid)
        D, Gr = self.trunk(x)                                                       # [NK,1|2,g,g]
        ox, oy = subpixel_offsets(f, grid)
        pose4 = [t.view(NK, 1, 1, 1) for t in pose]
        a = self.alpha(pose4, D, Gr[:, 0:1], Gr[:, 1:2], ox.view(1, -1, 1, 1), oy.view(1, -1, 1, 1), grid * f)
        a = a.reshape(B * Fr, K, f * f * grid * grid)
        per_frame = lambda t: (t * 255.0).unsqueeze(1).expand(B, Fr, *t.shape[1:]).reshape(B * Fr, *t.shape[1:])
        # background row position v in [0,1] of every sub-pixel, in the (f*f, grid, grid) channel layout
        v = ((cc.view(1, grid, 1) + oy.view(-1, 1, 1)).expand(f * f, grid, grid).reshape(1, 1, -1) + 1) / 2
        t0 = per_frame(top).unsqueeze(-1)                                           # [BF,3,1]
        bgimg = t0 + (per_frame(bottom).unsqueeze(-1) - t0) * v                     # [BF,3,P]
        cover = a.sum(1, keepdim=True)
        img = torch.matmul(per_frame(rgb).transpose(1, 2), a) + bgimg * (1 - cover) + 0.5
        img = torch.clamp(img, 0.0, 255.0).to(torch.uint8)
        img = F.pixel_shuffle(img.view(B * Fr, 3 * f * f, grid, grid), f)
        img = img.permute(0, 2, 3, 1)
        return img.reshape(B, Fr, grid * f, grid * f, 3)


class Exportable(nn.Module):
    def __init__(self, gen, grid, f, nhwc=False):
        super().__init__()
        self.gen, self.grid, self.f, self.nhwc = gen, grid, f, nhwc

    def forward(self, tokens, noise, times):
        return self.gen.export_forward(tokens, noise, times, self.grid, self.f, self.nhwc)


# ------------------------------------------------------------------ data
def caption_tokens(spec, rng):
    """A caption of spec in one of its surface forms; 1 in 8 gets an unknown word somewhere, so the
    encoder learns that <unk> carries nothing."""
    ids = [t for t in world.tokenize(world.make_prompt(spec, rng)) if t]
    if rng.random() < 0.125 and len(ids) < world.MAX_TOKENS:
        ids.insert(rng.randrange(len(ids) + 1), 1)
    return ids + [0] * (world.MAX_TOKENS - len(ids))


def sample_clips(rng, nvid, nt):
    specs, noises, times, toks = [], [], [], []
    for _ in range(nvid):
        sp = world.sample_spec(rng)
        u = [rng.random() for _ in range(world.NOISE_DIM)]
        ts = [rng.random() for _ in range(nt)]
        if rng.random() < 0.3:
            ts[0] = rng.choice([0.0, 1.0])
        toks.append(caption_tokens(sp, rng))
        specs.append(sp)
        noises.append(u)
        times.append(ts)
    return specs, noises, times, toks


def attr_targets(specs):
    at = [world.attributes(sp) for sp in specs]
    return {a: torch.tensor([x[a] for x in at]) for a in ATTRS}


def pose_targets(objs, n):
    """per-slot geometry targets [n,K,6]: present, cx, cy, size, cos, sin"""
    aux = torch.zeros(n, K, 6)
    for (bi, si, sh, cx, cy, sz, ang) in objs:
        aux[bi, si] = torch.tensor([1.0, cx, cy, sz, math.cos(ang), math.sin(ang)])
    return aux


def make_batch(rng, nvid, nt, f, cells, trng):
    """nvid clips x nt random frames, rendered sparsely (cells per frame) at resolution G*f."""
    specs, noises, times, toks = sample_clips(rng, nvid, nt)
    fs = [sp for sp in specs for _ in range(nt)]
    fu = [u for u in noises for _ in range(nt)]
    ft = [t for ts in times for t in ts]
    r = world.render_cells(fs, fu, ft, G, f, cells, trng)
    r["aux"] = pose_targets(r["objs"], len(fs))
    return (torch.tensor(toks), torch.tensor(noises, dtype=torch.float32),
            torch.tensor(times, dtype=torch.float32), r)


def make_clip_batch(rng, n, nt=2):
    """Geometry and colour only (no pixels): n clips x nt random times, for the text encoder,
    the pose MLP and the colour heads."""
    specs, noises, times, toks = sample_clips(rng, n, nt)
    fs = [sp for sp in specs for _ in range(nt)]
    fu = [u for u in noises for _ in range(nt)]
    ft = [t for ts in times for t in ts]
    objs, obj_rgb, bg_rgb, bg2_rgb = world.object_params(fs, fu, ft)
    return {"toks": torch.tensor(toks), "noise": torch.tensor(noises, dtype=torch.float32),
            "times": torch.tensor(times, dtype=torch.float32), "aux": pose_targets(objs, len(fs)),
            "obj_rgb": obj_rgb[::nt], "bg_rgb": bg_rgb[::nt], "bg2_rgb": bg2_rgb[::nt], "attrs": attr_targets(specs)}


def pose_loss(gen, p, at_):
    """p: raw pose [M,K,6]; at_: targets [M,K,6] (present, cx, cy, size, cos, sin)"""
    M, K_ = p.shape[:2]
    pres, cx, cy, s, _, _ = [t.view(M, K_) for t in gen.decode_pose(p.reshape(-1, 6))]
    pm = at_[..., 0]
    # rotation: on the raw (cos, sin) outputs; after normalisation the loss has a flat saddle at 180 degrees
    geo = ((cx - at_[..., 1]).abs() + (cy - at_[..., 2]).abs()
           + (torch.log(s) - torch.log(at_[..., 3].clamp(min=1e-3))).abs()
           + (p[..., 4] - at_[..., 4]).abs() + (p[..., 5] - at_[..., 5]).abs())
    return F.binary_cross_entropy_with_logits(pres, pm) + (geo * pm).sum() / pm.sum().clamp(min=1)


def clip_losses(gen, cb):
    """Caption parsing (cross-entropy per attribute), pose and colours on geometry-only clips."""
    p, rgb, top, bottom, _, logits = gen.latents(cb["toks"], cb["noise"], cb["times"])
    ce = sum(F.cross_entropy(logits[a], cb["attrs"][a], ignore_index=world.IGNORE) for a in ATTRS)
    err = max(float((logits[a].argmax(-1) != cb["attrs"][a])[cb["attrs"][a] != world.IGNORE].float().mean().nan_to_num())
              for a in ATTRS)
    aux = cb["aux"]
    pl = pose_loss(gen, p.view(-1, K, 6), aux)
    present = aux.view(rgb.shape[0], -1, K, 6)[:, 0, :, 0]                      # [B,K] (first frame)
    col = (((rgb - cb["obj_rgb"]).abs().sum(-1) * present).sum() / present.sum()
           + (top - cb["bg_rgb"]).abs().sum(-1).mean() + (bottom - cb["bg2_rgb"]).abs().sum(-1).mean())
    return ce + 2.0 * pl + 2.0 * col, {"ce": ce.item(), "parse_err": err, "pose": pl.item(), "col": col.item()}


def shape_sdf_local(shape, lx, ly):
    z = torch.zeros(1)
    return world.shape_sdf(shape, lx, ly, z, z, torch.ones(1), z)


def atlas_loss(gen, trng, n=1536):
    """Direct supervision of the field: each shape's learned code must give the true signed distance
    (object units) and its gradient at random points of the object frame."""
    ld, lg = 0.0, 0.0
    half = n // 2
    for k, sh in enumerate(world.SHAPES):
        u = torch.rand(2, n, generator=trng) * 2 - 1
        pts = torch.cat([u[:, :half] * LCLAMP, u[:, half:] * 1.5], 1)
        lx, ly = pts[0], pts[1]
        d = shape_sdf_local(sh, lx, ly)
        e = 1e-3
        gxt = (shape_sdf_local(sh, lx + e, ly) - shape_sdf_local(sh, lx - e, ly)) / (2 * e)
        gyt = (shape_sdf_local(sh, lx, ly + e) - shape_sdf_local(sh, lx, ly - e)) / (2 * e)
        D, gx, gy = gen.field_points(gen.codes[k:k + 1], lx.view(1, -1), ly.view(1, -1))
        w = 1.0 + 6.0 * (d.abs() < 0.25).float()
        ld = ld + ((D[0] - d).abs() * w).mean()
        gm = (d.abs() < 0.6).float()
        lg = lg + (((gx[0] - gxt).abs() + (gy[0] - gyt).abs()) * gm).sum() / gm.sum().clamp(min=1)
    return ld + 0.5 * lg, {"sdf": float(ld) / 3, "grad": float(lg) / 3}


def render_losses(gen, batch, f):
    """End to end on sparsely rendered frames: sub-pixel coverage and the composited image."""
    toks, noise, times, r = batch
    a, rgb, top, bottom, p = gen.forward_points(toks, noise, times, r["idx"], f)
    N = a.shape[0]
    at = r["alpha"]
    edge = ((at > 0.02) & (at < 0.98)).float()
    la = ((a - at).abs() * (1.0 + 4.0 * edge)).mean()
    img = world.composite(a, rgb, top, bottom, r["Y"])
    l1 = (img - r["image"]).abs().mean()
    pl = pose_loss(gen, p.view(N, K, 6), r["aux"])
    return 4.0 * la + 2.0 * l1 + pl, {f"alpha{f}": la.item(), f"img{f}": l1.item()}


# ------------------------------------------------------------------ export / int8
def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export_fp32(gen, grid, f, path, nhwc=False):
    m = Exportable(gen, grid, f, nhwc).eval()
    toks = torch.tensor([world.tokenize("two red squares moving left on a blue background")])
    noise = torch.rand(1, world.NOISE_DIM)
    times = torch.linspace(0, 1, 3).view(1, 3)
    torch.onnx.export(m, (toks, noise, times), path, opset_version=13,
                      input_names=["tokens", "noise", "times"], output_names=["video"],
                      dynamic_axes={"tokens": {0: "batch"}, "noise": {0: "batch"},
                                    "times": {0: "batch", 1: "frames"},
                                    "video": {0: "batch", 1: "frames"}},
                      do_constant_folding=True)


@torch.no_grad()
def calibrate(gen, grid, res, n=24, seed=123):
    """Activation ranges for the INT8 trunk: 99.99th pct of each ReLU output, plus ranges of the
    distance head (fine: cells within 12 px of an edge; coarse: all) and of the gradient head,
    over a calibration set sampled like the training data."""
    rng = random.Random(seed)
    _, noise, times, toks = sample_clips(rng, n, 6)
    toks, noise, times = torch.tensor(toks), torch.tensor(noise), torch.tensor(times)
    p, _, _, _, code, _ = gen.latents(toks, noise, times)
    pose = gen.decode_pose(p)
    cc = (torch.arange(grid, dtype=torch.float32) + 0.5) / grid * 2 - 1
    ft = gen.features(pose, cc.repeat(grid).view(1, -1), cc.repeat_interleave(grid).view(1, -1))
    codef = code.view(n, 1, K, H1).expand(n, 6, K, H1).reshape(-1, 1, H1)
    x = F.relu(gen.l0(ft) + codef).transpose(1, 2).reshape(-1, H1, grid, grid)
    q = lambda t, p=0.9999: float(torch.quantile(t.flatten()[torch.randperm(t.numel())[:200000]], p))
    acts = [q(x)]
    for cv in gen.convs:
        x = F.relu(cv(x))
        acts.append(q(x))
    D, Gr = gen.hd(x), gen.hg(x)
    Dl = (D * (pose[3] * (res / 2.0)).view(-1, 1, 1, 1)).abs()
    near = D.abs()[Dl < 12.0]
    d_fine = q(near, 0.999) if near.numel() else 1.0
    d_coarse = q(D.abs(), 0.999)
    return {"acts": acts, "d_fine": d_fine, "d_coarse": max(d_coarse, 2 * d_fine), "g": q(Gr.abs(), 0.9995)}


def int8_rewrite(fp32_path, out_path, calib):
    """QDQ-free static INT8 rewrite of the field trunk (the only heavy part of the graph):
    Relu -> (Conv -> Relu) x DEPTH -> {distance head, gradient head} becomes
    QuantizeLinear -> QLinearConv x DEPTH -> QLinearConv heads -> DequantizeLinear.
    u8 activations (ReLU folded into the u8 saturation at zero-point 0), s8 per-output-channel
    symmetric weights, int32 biases.  The 1-channel D head is emitted twice (fine and coarse
    output scale) and recombined with Where, so cells near an edge keep ~0.1 px precision."""
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    model = onnx.load(fp32_path)
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    by_w = {n.input[1].replace("gen.", "", 1): n for n in g.node if n.op_type == "Conv"}
    trunk = [by_w[f"convs.{i}.weight"] for i in range(DEPTH)]
    hD, hG = by_w["hd.weight"], by_w["hg.weight"]
    producers = {o: n for n in g.node for o in n.output}
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    relu0 = producers[trunk[0].input[0]]
    assert relu0.op_type == "Relu"
    drop = [relu0, hD, hG]
    for c in trunk:
        r = consumers[c.output[0]]
        assert len(r) == 1 and r[0].op_type == "Relu"
        drop += [c, r[0]]
    new_inits, new_nodes = [], []

    def const(name, arr):
        new_inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    scales = [max(c, 1e-6) / 255.0 for c in calib["acts"]]
    for i, sc in enumerate(scales):
        const(f"act{i}_s", np.array(sc, np.float32))
        const(f"act{i}_z", np.array(0, np.uint8))
    const("zp128", np.array(128, np.uint8))
    const("dfine_s", np.array(calib["d_fine"] / 127.0, np.float32))
    const("dcoarse_s", np.array(calib["d_coarse"] / 127.0, np.float32))
    const("g_s", np.array(calib["g"] / 127.0, np.float32))
    const("dfine_lim", np.array(calib["d_fine"] * 0.98, np.float32))
    new_nodes.append(helper.make_node("QuantizeLinear", [relu0.input[0], "act0_s", "act0_z"], ["act0_q"], name="quant_in"))

    def qconv(node, xi, ys, yz, out, tag):
        W = numpy_helper.to_array(inits[node.input[1]]).astype(np.float64)
        b = numpy_helper.to_array(inits[node.input[2]]).astype(np.float64)
        wsc = np.maximum(np.abs(W).reshape(W.shape[0], -1).max(1), 1e-8) / 127.0
        Wq = np.clip(np.round(W / wsc[:, None, None, None]), -127, 127).astype(np.int8)
        bq = np.round(b / (scales[xi] * wsc)).astype(np.int32)
        new_nodes.append(helper.make_node(
            "QLinearConv",
            [f"act{xi}_q", f"act{xi}_s", f"act{xi}_z", const(f"{tag}_wq", Wq), const(f"{tag}_ws", wsc.astype(np.float32)),
             const(f"{tag}_wz", np.zeros(W.shape[0], np.int8)), ys, yz, const(f"{tag}_bq", bq)],
            [out], name=f"{tag}_qlinear"))

    for i, node in enumerate(trunk):
        qconv(node, i, f"act{i + 1}_s", f"act{i + 1}_z", f"act{i + 1}_q", f"conv{i}")
    L = DEPTH
    qconv(hD, L, "dfine_s", "zp128", "dfine_q", "headD_fine")
    qconv(hD, L, "dcoarse_s", "zp128", "dcoarse_q", "headD_coarse")
    qconv(hG, L, "g_s", "zp128", "g_q", "headG")
    new_nodes += [
        helper.make_node("DequantizeLinear", ["dfine_q", "dfine_s", "zp128"], ["dfine"], name="dq_dfine"),
        helper.make_node("DequantizeLinear", ["dcoarse_q", "dcoarse_s", "zp128"], ["dcoarse"], name="dq_dcoarse"),
        helper.make_node("Abs", ["dcoarse"], ["dcoarse_abs"], name="abs_dcoarse"),
        helper.make_node("Less", ["dcoarse_abs", "dfine_lim"], ["use_fine"], name="less_dfine"),
        helper.make_node("Where", ["use_fine", "dfine", "dcoarse"], [hD.output[0]], name="where_d"),
        helper.make_node("DequantizeLinear", ["g_q", "g_s", "zp128"], [hG.output[0]], name="dq_g"),
    ]
    dropped = {id(n) for n in drop}
    nodes, inserted = [], False
    for n in g.node:
        if id(n) in dropped:
            if not inserted:
                nodes.extend(new_nodes)
                inserted = True
            continue
        nodes.append(n)
    del g.node[:]
    g.node.extend(nodes)
    used = {i for n in g.node for i in n.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep + new_inits)
    onnx.checker.check_model(model)
    onnx.save(model, out_path)
    return sorted({n.op_type for n in g.node})


# output resolution -> (field grid, pixels per cell side): 4x4-pixel cells at both resolutions
EXPORTS = {128: (32, 4), 256: (64, 4)}


def build_artifacts(gen, outdir, log):
    import onnx
    gen.eval()
    variants = {}
    for res, (grid, f) in EXPORTS.items():
        calib = calibrate(gen, grid, res)
        log(f"calibration {res}px: " + json.dumps({k: (np.round(v, 4).tolist() if isinstance(v, list) else round(v, 4)) for k, v in calib.items()}))
        tmp32 = os.path.join(outdir, f".tmp-fp32-{res}.onnx")
        export_fp32(gen, grid, f, tmp32)
        tmpb = os.path.join(outdir, f".tmp-base-{res}.onnx")
        export_fp32(gen, grid, f, tmpb, nhwc=True)
        tmp8 = os.path.join(outdir, f".tmp-int8-{res}.onnx")
        ops8 = int8_rewrite(tmpb, tmp8, calib)
        os.remove(tmpb)
        ops32 = sorted({n.op_type for n in onnx.load(tmp32).graph.node})
        for prec, tmp, ops in (("fp32", tmp32, ops32), ("int8", tmp8, ops8)):
            name = f"{prec}-{res}"
            digest = sha256(tmp)
            fname = f"{name}.{digest[:16]}.onnx"
            os.replace(tmp, os.path.join(outdir, fname))
            variants[name] = {"file": fname, "sha256": digest, "bytes": os.path.getsize(os.path.join(outdir, fname)),
                              "precision": prec, "width": res, "height": res, "ops": ops}
    keep = {v["file"] for v in variants.values()}
    for fn in os.listdir(outdir):
        if fn.endswith(".onnx") and fn not in keep:
            os.remove(os.path.join(outdir, fn))
    return variants


def write_manifest(outdir, variants, train_info, version="2.0.0"):
    path = os.path.join(outdir, "manifest.json")
    old = {}
    if os.path.exists(path):
        with open(path) as fh:
            old = json.load(fh)
    man = {
        "id": "clickvid-shapes",
        "version": version,
        "description": "Tiny text-to-video generator for a world of flat coloured shapes (circle/square/triangle, "
                       "11 colours, 8 motions, 1-3 objects in one or two groups, solid or vertical-gradient "
                       "backgrounds): text encoder -> caption attribute posteriors -> pose/colour MLPs and a learned "
                       "signed-distance field, trained from scratch on procedurally rendered captioned clips.",
        "license": "MIT",
        "text": {"max_tokens": world.MAX_TOKENS, "vocabulary": world.VOCAB, "aliases": world.ALIASES,
                 "function_words": world.FUNCTION_WORDS,
                 "scene": {"max_objects": world.MAX_OBJ, "max_groups": 2, "count_words": lexicon.COUNT_WORDS,
                           "object_words": world.SHAPES, "noun_phrase_words": lexicon.NOUN_PHRASE_WORDS}},
        "noise": {"dim": world.NOISE_DIM, "generator": "mulberry32", "distribution": "uniform"},
        "inputs": [{"name": "tokens", "dtype": "int64", "shape": ["batch", world.MAX_TOKENS]},
                   {"name": "noise", "dtype": "float32", "shape": ["batch", world.NOISE_DIM]},
                   {"name": "times", "dtype": "float32", "shape": ["batch", "frames"]}],
        "outputs": [{"name": "video", "dtype": "uint8", "shape": ["batch", "frames", "height", "width", 3]}],
        "variants": variants,
        # ms_per_video 0 = not measured yet: `eval.mjs --write` (speed on) fills it in, and the
        # server refuses a manifest that still has a 0 (it sizes a final's units and the estimates).
        "tiers": old.get("tiers") or {
            "draft": {"variant": "int8-128", "fps": 8, "duration_s": 2, "max_duration_s": 4, "max_batch": 8,
                      "ms_per_video": {"1": 0, "2": 0, "4": 0, "8": 0}},
            "standard": {"variant": "int8-256", "fps": 12, "duration_s": 2, "max_duration_s": 4, "max_batch": 4,
                         "ms_per_video": {"1": 0, "2": 0, "4": 0}},
            "final": {"variant": "fp32-256", "fps": 24, "duration_s": 3, "max_duration_s": 6, "max_batch": 4,
                      "ms_per_video": {"1": 0, "2": 0, "4": 0}},
        },
        "eval": {"heldout_compositions": world.heldout_names(),
                 "accuracy": {},
                 "measured_at": None,
                 "machine": "2-core x86_64 CPU, onnxruntime-node 1.30, 2 intra-op threads"},
    }
    with open(path, "w") as fh:
        json.dump(man, fh, indent=2)
        fh.write("\n")
    with open(os.path.join(outdir, "training.json"), "w") as fh:
        json.dump(train_info, fh, indent=2)
        fh.write("\n")


# ------------------------------------------------------------------ main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=30.0, help="wall-clock training budget")
    ap.add_argument("--steps", type=int, default=6000, help="planned steps (LR schedule); budget may stop earlier")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--videos", type=int, default=12, help="rendered clips per step")
    ap.add_argument("--frames", type=int, default=2, help="random frames per rendered clip")
    ap.add_argument("--cells", type=int, default=192, help="grid cells rendered per frame (of 1024)")
    ap.add_argument("--clips", type=int, default=160, help="geometry-only clips per step (text, pose, colours)")
    ap.add_argument("--atlas", type=int, default=1536, help="field points per shape per step")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--export-only", action="store_true", help="re-export from checkpoint.pt")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    trng = torch.Generator().manual_seed(args.seed)
    np.random.seed(args.seed)
    gen = Generator()
    nparams = sum(p.numel() for p in gen.parameters())
    ck = os.path.join(args.out, "checkpoint.pt")
    log = lambda s: print(f"[{time.strftime('%H:%M:%S')}] {s}", flush=True)
    log(f"params: {nparams}")
    info = {}
    if args.export_only:
        st = torch.load(ck)
        gen.load_state_dict(st["model"])
        info = st.get("info", {})
    else:
        opt = torch.optim.Adam(gen.parameters(), lr=args.lr)
        budget = args.minutes * 60
        t0 = time.time()
        step = 0
        ema = None
        while True:
            el = time.time() - t0
            prog = max(step / args.steps, el / budget)
            if prog >= 1.0:
                break
            lr = args.lr * (0.5 * (1 + math.cos(math.pi * min(prog, 1.0)))) * min(1.0, (step + 1) / 100)
            for gr in opt.param_groups:
                gr["lr"] = lr
            gen.train()
            loss, st = clip_losses(gen, make_clip_batch(rng, args.clips))
            la, sa = atlas_loss(gen, trng, args.atlas)
            f = 8 if step % 4 == 3 else 4        # the 4x4-pixel cells of the exports, and coarser 8x8 ones
            lr_, sr = render_losses(gen, make_batch(rng, args.videos, args.frames, f, args.cells, trng), f)
            loss = loss + la + lr_
            st.update(sa)
            st.update(sr)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(gen.parameters(), 1.0)
            opt.step()
            ema = st if ema is None else {**ema, **{k: 0.95 * ema.get(k, v) + 0.05 * v for k, v in st.items()}}
            step += 1
            if step % 500 == 0:
                torch.save({"model": gen.state_dict(), "info": {"steps": step}}, ck)
            if step % 50 == 0:
                log(f"step {step} prog {prog:.3f} lr {lr:.2e} " +
                    " ".join(f"{k} {v:.4f}" for k, v in ema.items()))
        info = {"steps": step, "minutes": round((time.time() - t0) / 60, 2), "seed": args.seed,
                "params": nparams, "command": "/usr/bin/python3 models/clickvid-shapes/train.py --minutes %g" % args.minutes,
                "final_losses": {k: round(v, 5) for k, v in (ema or {}).items()}}
        torch.save({"model": gen.state_dict(), "info": info}, ck)
        log(f"trained {step} steps in {info['minutes']} min")
    variants = build_artifacts(gen, args.out, log)
    write_manifest(args.out, variants, info)
    log("wrote manifest + " + ", ".join(v["file"] for v in variants.values()))


if __name__ == "__main__":
    main()
