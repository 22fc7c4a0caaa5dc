#!/usr/bin/python3
"""Train + export + INT8-rewrite the clickvid-shapes text-to-video model.

One command (fixed seed, time budget):

    /usr/bin/python3 models/clickvid-shapes/train.py --minutes 30

Writes into models/clickvid-shapes/:
  fp32-128.<sha16>.onnx, int8-128.<sha16>.onnx, fp32-256.<sha16>.onnx, int8-256.<sha16>.onnx,
  manifest.json (accuracy / speed fields are then filled by `node eval.mjs --write`),
  checkpoint.pt (weights, not shipped; ignored by the manifest).

Architecture ("layered conditional neural field"):
  text encoder   token emb + positions -> 1 self-attention block -> 4-query attention pooling -> 128-d
  latent MLP     per (video, frame, slot): [text, noise, fourier(t), slot id] -> 192 -> 192
                 -> (a) per-slot hyper-weights of the first field layer (64 units x [x, y, x^2+y^2, 1])
                 -> (b) per-slot RGB colour;  background RGB from [text, noise]
  field trunk    on a 32x32 grid of cell centres: MatMul(hyper-weights, coords) -> ReLU
                 -> 1x1 conv 64->96 -> ReLU -> 1x1 conv 96->96 -> ReLU
                 -> head 1x1 conv 96 -> f*f sub-pixel alpha logits -> DepthToSpace(f)  (f=4: 128px, f=8: 256px)
  compositing    video = bg + sum_k sigmoid(logit_k) * (rgb_k - bg)  -> round/clip -> uint8 NHWC
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
import world  # noqa: E402

G = 32            # field grid
H1 = 64           # hyper (first) layer width
HID = 128          # trunk width
DEPTH = 3          # 1x1 conv layers in the trunk (before the head)
NF = 7             # geometric input features per cell
LCLAMP = 4.0       # local coordinates clamped to +-4 object sizes
K = world.MAX_OBJ
TXT = 128
LAT = 192
NT = 9            # time features


def time_feats(t):
    fs = [t]
    for m in range(1, 5):
        fs.append(torch.sin(2 * math.pi * m * t))
        fs.append(torch.cos(2 * math.pi * m * t))
    return torch.stack(fs, -1)


class TextEncoder(nn.Module):
    def __init__(self, V, L=world.MAX_TOKENS, d=64, nq=4):
        super().__init__()
        self.d = d
        self.emb = nn.Embedding(V, d)
        self.pos = nn.Parameter(torch.randn(L, d) * 0.3)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ff1 = nn.Linear(d, 2 * d)
        self.ff2 = nn.Linear(2 * d, d)
        self.pq = nn.Parameter(torch.randn(nq, d) * 0.3)
        self.out = nn.Sequential(nn.Linear(nq * d, 2 * TXT), nn.ReLU(), nn.Linear(2 * TXT, TXT))

    def forward(self, tokens):
        x = self.emb(tokens) + self.pos
        pad = (tokens == 0).float().unsqueeze(1) * -1e4          # [B,1,L]
        q, k, v = self.qkv(x).chunk(3, -1)
        a = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(self.d) + pad, -1)
        x = x + self.proj(a @ v)
        x = x + self.ff2(F.relu(self.ff1(x)))
        pa = torch.softmax(self.pq @ x.transpose(1, 2) / math.sqrt(self.d) + pad, -1)  # [B,nq,L]
        pooled = (pa @ x).flatten(1)
        return self.out(pooled)


class Generator(nn.Module):
    """Per (video, frame, slot): latent MLP -> pose (presence, centre, size, rotation) + code.
    Field trunk on a G x G grid of cell centres: local (object-frame) coordinates of every cell
    -> 1x1 convs -> two heads: D = learned signed distance at the cell centre (object units) and
    E = per-sub-pixel first-order offsets (logit units).  logit = E - (size_px * D + absent_penalty).
    """

    def __init__(self):
        super().__init__()
        self.text = TextEncoder(len(world.VOCAB))
        self.slot = nn.Parameter(torch.randn(K, 16) * 0.5)
        self.lat = nn.Sequential(nn.Linear(TXT + world.NOISE_DIM + NT + 16, LAT), nn.ReLU(),
                                 nn.Linear(LAT, LAT), nn.ReLU(), nn.Linear(LAT, LAT), nn.ReLU())
        self.pose = nn.Linear(LAT, 6)       # presence logit, cx, cy, log size, cos, sin
        self.hb = nn.Linear(LAT, H1)        # per-slot bias of the first field layer (shape code)
        self.rgb = nn.Sequential(nn.Linear(TXT + world.NOISE_DIM + 16, 128), nn.ReLU(), nn.Linear(128, 3))
        self.bg = nn.Sequential(nn.Linear(TXT + world.NOISE_DIM, 128), nn.ReLU(), nn.Linear(128, 3))
        self.l0 = nn.Linear(NF, H1, bias=False)
        self.convs = nn.ModuleList([nn.Conv2d(H1 if i == 0 else HID, HID, 1) for i in range(DEPTH)])
        self.hd = nn.ModuleDict({str(f): nn.Conv2d(HID, 1, 1) for f in (4, 8)})
        self.he = nn.ModuleDict({str(f): nn.Conv2d(HID, f * f, 1) for f in (4, 8)})
        c = (torch.arange(G, dtype=torch.float32) + 0.5) / G * 2 - 1
        yy, xx = torch.meshgrid(c, c, indexing="ij")
        self.register_buffer("CX", xx.reshape(-1).clone())
        self.register_buffer("CY", yy.reshape(-1).clone())

    def latents(self, tokens, noise, times):
        """-> h [B*F*K, LAT], rgb [B*F*K,3] (0..1), bg [B,3] (0..1)"""
        B, Fr = times.shape
        tx = self.text(tokens)
        nz = noise * 2 - 1
        tn = torch.cat([tx, nz], -1)
        tf = time_feats(times)
        z = torch.cat([tn.unsqueeze(1).unsqueeze(2).expand(B, Fr, K, tn.shape[-1]),
                       tf.unsqueeze(2).expand(B, Fr, K, NT),
                       self.slot.view(1, 1, K, 16).expand(B, Fr, K, 16)], -1)
        h = self.lat(z).reshape(-1, LAT)
        # object colour: per (clip, slot), independent of time
        zc = torch.cat([tn.unsqueeze(1).expand(B, K, tn.shape[-1]), self.slot.view(1, K, 16).expand(B, K, 16)], -1)
        rgb = torch.sigmoid(self.rgb(zc)).unsqueeze(1).expand(B, Fr, K, 3).reshape(-1, 3)
        bg = torch.sigmoid(self.bg(tn))
        return h, rgb, bg

    @staticmethod
    def decode_pose(p):
        pres = p[:, 0:1]
        cx, cy = p[:, 1:2], p[:, 2:3]
        s = 0.15 * torch.exp(torch.clamp(p[:, 3:4], -3.0, 2.0))
        n = torch.sqrt(p[:, 4:5] * p[:, 4:5] + p[:, 5:6] * p[:, 5:6] + 1e-4)
        return pres, cx, cy, s, p[:, 4:5] / n, p[:, 5:6] / n

    def features(self, pose, X, Y, aug=False):
        """pose tensors [M,1]; X, Y [M,S] or [1,S] -> geometric features [M,S,NF] (+ a ones column if aug)"""
        pres, cx, cy, s, c, sn = pose
        dx, dy = X - cx, Y - cy
        lx = torch.clamp((c * dx + sn * dy) / s, -LCLAMP, LCLAMP)
        ly = torch.clamp((c * dy - sn * dx) / s, -LCLAMP, LCLAMP)
        one = torch.ones_like(lx)
        fs = [lx, ly, 0.25 * lx * lx, 0.25 * ly * ly, 0.25 * lx * ly, c * one, sn * one]
        if aug:
            fs.append(one)
        return torch.stack(fs, -1)

    def penalty(self, pose, res):
        pres, cx, cy, s, c, sn = pose
        return s * (res / 2.0), 12.0 * F.softplus(-pres)         # size in px, absent-slot penalty

    def forward_points(self, tokens, noise, times, idx, heads):
        """Training path on sampled cells idx [N,S] (N=B*F).  Returns {f: logits [N,K,S,f*f]},
        rgb [N,K,3], bg [N,3], raw pose [N*K,6]."""
        h, rgb, bg = self.latents(tokens, noise, times)
        B, Fr = times.shape
        N, S = idx.shape
        p = self.pose(h)
        pose = self.decode_pose(p)
        X = self.CX[idx].unsqueeze(1).expand(N, K, S).reshape(N * K, S)
        Y = self.CY[idx].unsqueeze(1).expand(N, K, S).reshape(N * K, S)
        ft = self.features(pose, X, Y)                              # [NK,S,NF]
        x = self.l0(ft) + self.hb(h).unsqueeze(1)                   # [NK,S,H1]
        x = F.relu(x).reshape(-1, H1).t().reshape(1, H1, N * K * S, 1)
        for cv in self.convs:
            x = F.relu(cv(x))
        out = {}
        for f in heads:
            spx, pen = self.penalty(pose, G * f)
            D = self.hd[str(f)](x).view(N * K, S)
            E = self.he[str(f)](x).view(f * f, N * K, S).permute(1, 2, 0)   # [NK,S,ff]
            lg = E - (spx * D + pen).unsqueeze(-1)
            out[f] = lg.view(N, K, S, f * f)
        bgf = bg.unsqueeze(1).expand(B, Fr, 3).reshape(N, 3)
        return out, rgb.reshape(N, K, 3), bgf, p

    def export_forward(self, tokens, noise, times, f, nhwc=False):
        """uint8 video [B,F,H,W,3]."""
        h, rgb, bg = self.latents(tokens, noise, times)
        B = times.shape[0]
        Fr = times.shape[1]
        pose = self.decode_pose(self.pose(h))
        ft = self.features(pose, self.CX.view(1, -1), self.CY.view(1, -1), aug=True)   # [NK,GG,NF+1]
        # first field layer with its per-slot bias folded in as the weight row of a ones feature
        W = torch.cat([self.l0.weight.t().unsqueeze(0).expand(h.shape[0], NF, H1),
                       self.hb(h).unsqueeze(1)], 1)                                # [NK,NF+1,H1]
        if nhwc:     # channels-last first layer (lets ORT's NHWC QLinearConv skip a layout transpose)
            x = torch.matmul(ft, W)                                                # [NK,GG,H1]
            x = F.relu(x.view(-1, G, G, H1).permute(0, 3, 1, 2))
        else:
            x = torch.matmul(W.transpose(1, 2), ft.transpose(1, 2))                # [NK,H1,GG]
            x = F.relu(x.view(-1, H1, G, G))
        for cv in self.convs:
            x = F.relu(cv(x))
        spx, pen = self.penalty(pose, G * f)
        D = self.hd[str(f)](x)                                               # [NK,1,G,G]
        E = self.he[str(f)](x)                                               # [NK,ff,G,G]
        lg = E - (D * spx.view(-1, 1, 1, 1) + pen.view(-1, 1, 1, 1))
        a = torch.sigmoid(lg).reshape(B * Fr, K, f * f * G * G)
        rgbf = rgb.reshape(B * Fr, K, 3) * 255.0
        bgf = (bg * 255.0).unsqueeze(1).expand(B, Fr, 3).reshape(B * Fr, 3, 1)
        diff = rgbf.transpose(1, 2) - bgf
        img = torch.matmul(diff, a) + (bgf + 0.5)
        img = torch.clamp(img, 0.0, 255.0).to(torch.uint8)
        img = F.pixel_shuffle(img.view(B * Fr, 3 * f * f, G, G), f)
        img = img.permute(0, 2, 3, 1)
        return img.reshape(B, Fr, G * f, G * f, 3)


class Exportable(nn.Module):
    def __init__(self, gen, f, nhwc=False):
        super().__init__()
        self.gen, self.f, self.nhwc = gen, f, nhwc

    def forward(self, tokens, noise, times):
        return self.gen.export_forward(tokens, noise, times, self.f, self.nhwc)


# ------------------------------------------------------------------ data
def sample_clips(rng, nvid, nt):
    specs, noises, times, toks = [], [], [], []
    for _ in range(nvid):
        sp = world.sample_spec(rng)
        u = [rng.random() for _ in range(world.NOISE_DIM)]
        ts = [rng.random() for _ in range(nt)]
        if rng.random() < 0.3:
            ts[0] = rng.choice([0.0, 1.0])
        toks.append(world.tokenize(world.make_prompt(sp, rng)))
        specs.append(sp)
        noises.append(u)
        times.append(ts)
    return specs, noises, times, toks


def make_batch(rng, nvid, nt, f, cells, trng):
    """nvid clips x nt random frames, rendered sparsely (cells per frame) at resolution G*f."""
    specs, noises, times, toks = sample_clips(rng, nvid, nt)
    fs = [sp for sp in specs for _ in range(nt)]
    fu = [u for u in noises for _ in range(nt)]
    ft = [t for ts in times for t in ts]
    r = world.render_cells(fs, fu, ft, G, f, cells, trng)
    # auxiliary per-slot geometry targets: present, cx, cy, size, cos, sin
    aux = torch.zeros(len(fs), K, 6)
    for (bi, si, sh, cx, cy, sz, ang) in r["objs"]:
        aux[bi, si] = torch.tensor([1.0, cx, cy, sz, math.cos(ang), math.sin(ang)])
    r["aux"] = aux
    return (torch.tensor(toks), torch.tensor(noises, dtype=torch.float32),
            torch.tensor(times, dtype=torch.float32), r)


def make_pose_batch(rng, n):
    """Cheap extra supervision for the pose bottleneck: n clips x 1 random time, geometry only (no pixels)."""
    specs, noises, times, toks = sample_clips(rng, n, 1)
    objs, _, _ = world.object_params(specs, noises, [t[0] for t in times])
    aux = torch.zeros(n, K, 6)
    for (bi, si, sh, cx, cy, sz, ang) in objs:
        aux[bi, si] = torch.tensor([1.0, cx, cy, sz, math.cos(ang), math.sin(ang)])
    return torch.tensor(toks), torch.tensor(noises, dtype=torch.float32), torch.tensor(times, dtype=torch.float32), aux


def pose_loss(gen, p, at_):
    """p: raw pose [M,K,6]; at_: targets [M,K,6] (present, cx, cy, size, cos, sin)"""
    M, K_ = p.shape[:2]
    pres, cx, cy, s, c, sn = [t.view(M, K_) for t in gen.decode_pose(p.reshape(-1, 6))]
    pm = at_[..., 0]
    geo = ((cx - at_[..., 1]).abs() + (cy - at_[..., 2]).abs()
           + (torch.log(s) - torch.log(at_[..., 3].clamp(min=1e-3))).abs() * 0.5
           + (c - at_[..., 4]).abs() + (sn - at_[..., 5]).abs())
    return F.binary_cross_entropy_with_logits(pres, pm) + (geo * pm).sum() / pm.sum().clamp(min=1)


def pool_patch(x, f):
    """[...,S,(2f)^2] sub-pixels -> [...,S,f^2] (2x2 average)"""
    sh = x.shape[:-1]
    return x.reshape(*sh, f, 2, f, 2).mean((-1, -3)).reshape(*sh, f * f)


def losses(gen, batch, fs, pose_batch=None):
    toks, noise, times, r = batch
    idx = r["idx"]
    out, rgbf, bgf, p = gen.forward_points(toks, noise, times, idx, fs)
    N, K_ = rgbf.shape[:2]
    present = r["present"]
    col = ((rgbf - r["obj_rgb"].unsqueeze(1)).abs().sum(-1) * present).sum() / present.sum().clamp(min=1)
    bgl = (bgf - r["bg_rgb"]).abs().sum(-1).mean()
    # pose supervision: presence, centre, log-size, orientation
    aux = pose_loss(gen, p.view(N, K_, 6), r["aux"])
    total = col + bgl + 2.0 * aux
    st = {"col": col.item(), "bg": bgl.item(), "aux": aux.item()}
    if pose_batch is not None:       # extra geometry-only clips for the pose bottleneck
        ptoks, pnoise, ptimes, paux = pose_batch
        hp, _, _ = gen.latents(ptoks, pnoise, ptimes)
        paux_l = pose_loss(gen, gen.pose(hp).view(-1, K_, 6), paux)
        total = total + 2.0 * paux_l
        st["aux_x"] = paux_l.item()
    fmax = int(round(math.sqrt(r["alpha"].shape[-1])))
    for f in fs:
        at, it = r["alpha"], r["image"]
        if f != fmax:
            at, it = pool_patch(at, f), pool_patch(it, f)
        lg = out[f]
        edge = ((at > 0.02) & (at < 0.98)).float()
        w = 1.0 + 4.0 * edge
        bce = (F.binary_cross_entropy_with_logits(lg, at, reduction="none") * w).mean()
        a = torch.sigmoid(lg)
        img = bgf.view(N, 3, 1, 1) + torch.einsum("nksp,nkc->ncsp", a, rgbf - bgf.unsqueeze(1))
        l1 = (img - it).abs().mean()
        total = total + bce + 2.0 * l1
        st[f"bce{f}"] = bce.item()
        st[f"l1_{f}"] = l1.item()
    return total, st


# ------------------------------------------------------------------ export / int8
def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export_fp32(gen, f, path, nhwc=False):
    m = Exportable(gen, f, nhwc).eval()
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
def calibrate(gen, f, n=24, seed=123):
    """Activation ranges for the INT8 trunk: 99.99th pct of each ReLU output, plus ranges of the
    D (fine + coarse) and E heads, over a calibration set rendered like the training data."""
    rng = random.Random(seed)
    _, noise, times, toks = sample_clips(rng, n, 6)
    toks, noise, times = torch.tensor(toks), torch.tensor(noise), torch.tensor(times)
    h, _, _ = gen.latents(toks, noise, times)
    pose = gen.decode_pose(gen.pose(h))
    ft = gen.features(pose, gen.CX.view(1, -1), gen.CY.view(1, -1))
    x = F.relu(gen.l0(ft) + gen.hb(h).unsqueeze(1))
    x = x.transpose(1, 2).reshape(-1, H1, G, G)
    q = lambda t, p=0.9999: float(torch.quantile(t.flatten()[torch.randperm(t.numel())[:200000]], p))
    acts = [q(x)]
    for cv in gen.convs:
        x = F.relu(cv(x))
        acts.append(q(x))
    spx, pen = gen.penalty(pose, G * f)
    D = gen.hd[str(f)](x)
    E = gen.he[str(f)](x)
    Dl = (D * spx.view(-1, 1, 1, 1)).abs()
    near = D.abs()[Dl < 12.0]
    d_fine = q(near, 0.999) if near.numel() else 1.0
    d_coarse = q(D.abs(), 0.999)
    e_rng = q(E.abs(), 0.9995)
    return {"acts": acts, "d_fine": d_fine, "d_coarse": max(d_coarse, 2 * d_fine), "e": e_rng}


def int8_rewrite(fp32_path, out_path, calib, f):
    """QDQ-free static INT8 rewrite of the field trunk (the only heavy part of the graph):
    Relu -> (Conv -> Relu) x DEPTH -> {D head, E head} becomes
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
    hD, hE = by_w[f"hd.{f}.weight"], by_w[f"he.{f}.weight"]
    producers = {o: n for n in g.node for o in n.output}
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    relu0 = producers[trunk[0].input[0]]
    assert relu0.op_type == "Relu"
    drop = [relu0, hD, hE]
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
    const("e_s", np.array(calib["e"] / 127.0, np.float32))
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
    qconv(hE, L, "e_s", "zp128", "e_q", "headE")
    new_nodes += [
        helper.make_node("DequantizeLinear", ["dfine_q", "dfine_s", "zp128"], ["dfine"], name="dq_dfine"),
        helper.make_node("DequantizeLinear", ["dcoarse_q", "dcoarse_s", "zp128"], ["dcoarse"], name="dq_dcoarse"),
        helper.make_node("Abs", ["dcoarse"], ["dcoarse_abs"], name="abs_dcoarse"),
        helper.make_node("Less", ["dcoarse_abs", "dfine_lim"], ["use_fine"], name="less_dfine"),
        helper.make_node("Where", ["use_fine", "dfine", "dcoarse"], [hD.output[0]], name="where_d"),
        helper.make_node("DequantizeLinear", ["e_q", "e_s", "zp128"], [hE.output[0]], name="dq_e"),
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


def build_artifacts(gen, outdir, log):
    import onnx
    gen.eval()
    variants = {}
    for f, res in ((4, 128), (8, 256)):
        calib = calibrate(gen, f)
        log(f"calibration f={f}: " + json.dumps({k: (np.round(v, 4).tolist() if isinstance(v, list) else round(v, 4)) for k, v in calib.items()}))
        tmp32 = os.path.join(outdir, f".tmp-fp32-{res}.onnx")
        export_fp32(gen, f, tmp32)
        tmpb = os.path.join(outdir, f".tmp-base-{res}.onnx")
        export_fp32(gen, f, tmpb, nhwc=True)
        tmp8 = os.path.join(outdir, f".tmp-int8-{res}.onnx")
        ops8 = int8_rewrite(tmpb, tmp8, calib, f)
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


def write_manifest(outdir, variants, train_info):
    path = os.path.join(outdir, "manifest.json")
    old = {}
    if os.path.exists(path):
        with open(path) as fh:
            old = json.load(fh)
    man = {
        "id": "clickvid-shapes",
        "version": "1.0.0",
        "description": "Tiny text-to-video generator for a world of flat coloured shapes (circle/square/triangle, "
                       "11 colours, 8 motions, 1-3 objects, solid backgrounds). Layered conditional neural field "
                       "trained from scratch on procedurally rendered captioned clips.",
        "license": "MIT",
        "text": {"max_tokens": world.MAX_TOKENS, "vocabulary": world.VOCAB, "aliases": world.ALIASES,
                 "function_words": world.FUNCTION_WORDS},
        "noise": {"dim": world.NOISE_DIM, "generator": "mulberry32", "distribution": "uniform"},
        "inputs": [{"name": "tokens", "dtype": "int64", "shape": ["batch", world.MAX_TOKENS]},
                   {"name": "noise", "dtype": "float32", "shape": ["batch", world.NOISE_DIM]},
                   {"name": "times", "dtype": "float32", "shape": ["batch", "frames"]}],
        "outputs": [{"name": "video", "dtype": "uint8", "shape": ["batch", "frames", "height", "width", 3]}],
        "variants": variants,
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
    ap.add_argument("--videos", type=int, default=24, help="videos per batch")
    ap.add_argument("--frames", type=int, default=3, help="random frames per video per batch")
    ap.add_argument("--hires-frac", type=float, default=0.25, help="last fraction of training that also trains the 256 head")
    ap.add_argument("--cells", type=int, default=256, help="grid cells sampled per frame (of 1024)")
    ap.add_argument("--pose-clips", type=int, default=192, help="extra geometry-only clips per step for the pose head")
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
            hires = prog >= 1.0 - args.hires_frac
            lr = args.lr * (0.5 * (1 + math.cos(math.pi * min(prog, 1.0)))) * min(1.0, (step + 1) / 100)
            for gr in opt.param_groups:
                gr["lr"] = lr
            gen.train()
            pb = make_pose_batch(rng, args.pose_clips) if args.pose_clips else None
            if hires:
                batch = make_batch(rng, args.videos, args.frames, 8, args.cells, trng)
                loss, st = losses(gen, batch, (4, 8), pb)
            else:
                batch = make_batch(rng, args.videos, args.frames, 4, args.cells, trng)
                loss, st = losses(gen, batch, (4,), pb)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(gen.parameters(), 1.0)
            opt.step()
            ema = st if ema is None else {k: 0.95 * ema.get(k, v) + 0.05 * v for k, v in st.items()}
            step += 1
            if step % 500 == 0:
                torch.save({"model": gen.state_dict(), "info": {"steps": step}}, ck)
            if step % 50 == 0:
                log(f"step {step} prog {prog:.3f} lr {lr:.2e} hires {hires} " +
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
