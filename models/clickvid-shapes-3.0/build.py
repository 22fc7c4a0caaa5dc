"""clickvid-shapes 3.0.0: the 2.2 model in pipeline form, with a trained denoiser over a scene latent.

    /usr/bin/python3 models/clickvid-shapes-3.0/build.py [--steps 4000] [--seed 3]

What it makes (optimum's folder layout, every file named in manifest.json with its sha256):

  text_encoder/model.onnx     input_ids [batch, 24] -> last_hidden_state [batch, 12, 64]: 2.2's word
                              embeddings and two self-attention blocks, pooled by its 12 learned
                              attribute queries (one output token per caption attribute).
  transformer/model.onnx      the denoiser over the scene latent [batch, 83, 1, 1, 1]:
                              75 channels of caption-attribute posteriors (2.2's attribute heads read
                              them from the text tokens) and 8 channels of seed variation (start
                              position, shades, size jitter, spin direction), generated from Gaussian
                              noise by a small MLP trained here with flow matching. It predicts the
                              clean latent and returns the velocity (x_t - x0) / sigma.
  vae_decoder/<variant>.onnx  2.2's renderer (pose/colour MLPs and signed-distance field), cut out of
                              its graphs at the attribute posteriors: latent_sample + frame times ->
                              uint8 frames. int8-128, int8-256 (2.2's static INT8) and fp32-256.
  scheduler/scheduler_config.json   FlowMatchEulerDiscreteScheduler, shift 1.

The attribute half of the latent is fixed by the prompt: the denoiser's clean-latent prediction for
it does not read the noisy input, so every seed gets the same reading of the caption, exactly 2.2's.
What the denoiser generates from noise is the seed variation. The model card says so.
"""
import argparse
import hashlib
import json
import math
import os
import shutil
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import helper, numpy_helper, TensorProto

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.dirname(HERE)
BASE = os.path.join(MODELS, "clickvid-shapes-2.2")

# Caption attributes in 2.2's order (train.py ATTRS / world.ATTRIBUTES): name, classes.
ATTRS = [("count", 3), ("color", 11), ("shape", 3), ("motion", 9), ("size", 3), ("speed", 3), ("bg", 11),
         ("count2", 3), ("color2", 11), ("shape2", 3), ("size2", 3), ("bg2", 12)]
P_DIM = sum(n for _, n in ATTRS)          # 75
NOISE_DIM = 8
CHANNELS = P_DIM + NOISE_DIM              # 83
D_TXT = 64
TOKENS = 24
POOLED = "/text/MatMul_1_output_0"        # [B, 12, 64]: the attribute queries' pooling of the tokens
SOFTMAX = ["/Softmax_output_0"] + [f"/Softmax_{i}_output_0" for i in range(1, len(ATTRS))]
DECODERS = {"int8-128": "int8", "int8-256": "int8", "fp32-256": "fp32"}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def base_file(variant):
    m = json.load(open(os.path.join(BASE, "manifest.json")))
    return os.path.join(BASE, m["variants"][variant]["file"])


def prune(graph, outputs):
    """Keeps the nodes (and initializers) that the named outputs need, in their original order."""
    producer = {o: n for n in graph.node for o in n.output}
    need, stack, keep = set(), list(outputs), set()
    while stack:
        t = stack.pop()
        if t in need:
            continue
        need.add(t)
        n = producer.get(t)
        if n is not None and id(n) not in keep:
            keep.add(id(n))
            stack.extend(i for i in n.input if i)
    nodes = [n for n in graph.node if id(n) in keep]
    del graph.node[:]
    graph.node.extend(nodes)
    inits = [i for i in graph.initializer if i.name in need]
    del graph.initializer[:]
    graph.initializer.extend(inits)
    return need


def save(model, path):
    onnx.checker.check_model(model)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    onnx.save(model, path)


def cut_text_encoder(out):
    """tokens -> the 12 pooled attribute tokens, renamed to optimum's names."""
    m = onnx.load(base_file("fp32-256"))
    g = m.graph
    prune(g, [POOLED])
    for n in g.node:
        n.input[:] = ["input_ids" if i == "tokens" else i for i in n.input]
        n.output[:] = ["last_hidden_state" if o == POOLED else o for o in n.output]
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", TOKENS])]
    outputs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", len(ATTRS), D_TXT])]
    del g.input[:]
    g.input.extend(inputs)
    del g.output[:]
    g.output.extend(outputs)
    del g.value_info[:]
    g.name = "clickvid-shapes-3.0 text encoder"
    save(m, out)


def cut_decoder(variant, out):
    """2.2's graph below the attribute posteriors: the scene latent and frame times in, frames out."""
    m = onnx.load(base_file(variant))
    g = m.graph
    # The posteriors and the seed noise now come from the latent: drop their producers.
    kept = [n for n in g.node if not any(o in SOFTMAX for o in n.output)]
    sizes = [n for _, n in ATTRS] + [NOISE_DIM]
    head = [
        helper.make_node("Flatten", ["latent_sample"], ["latent_flat"], axis=1, name="/latent/Flatten"),
        helper.make_node("Split", ["latent_flat", "latent_split_sizes"], SOFTMAX + ["latent_noise"], axis=1, name="/latent/Split"),
        # 2.2 reads seed noise in [0, 1]; the latent carries it in [-1, 1].
        helper.make_node("Add", ["latent_noise", "latent_one"], ["latent_noise_1"], name="/latent/Add"),
        helper.make_node("Mul", ["latent_noise_1", "latent_half"], ["latent_noise_01"], name="/latent/Mul"),
        helper.make_node("Clip", ["latent_noise_01", "latent_zero", "latent_one"], ["noise"], name="/latent/Clip"),
    ]
    g.initializer.extend([
        numpy_helper.from_array(np.array(sizes, dtype=np.int64), "latent_split_sizes"),
        numpy_helper.from_array(np.array(1.0, dtype=np.float32), "latent_one"),
        numpy_helper.from_array(np.array(0.5, dtype=np.float32), "latent_half"),
        numpy_helper.from_array(np.array(0.0, dtype=np.float32), "latent_zero"),
    ])
    nodes = head + kept
    del g.node[:]
    g.node.extend(nodes)
    prune(g, ["video"])
    for n in g.node:
        n.input[:] = ["frame_times" if i == "times" else i for i in n.input]
    del g.input[:]
    g.input.extend([
        helper.make_tensor_value_info("latent_sample", TensorProto.FLOAT, ["batch", CHANNELS, 1, 1, 1]),
        helper.make_tensor_value_info("frame_times", TensorProto.FLOAT, ["batch", "frames"]),
    ])
    del g.value_info[:]
    g.name = f"clickvid-shapes-3.0 decoder {variant}"
    save(m, out)


class SeedDenoiser(nn.Module):
    """The flow's velocity for the seed variation: x_t [B, 8], sigma [B, 1] -> v [B, 8] (noise - data).
    The clean estimate is x_t - sigma v: near sigma 0 it stays at x_t whatever the network's error,
    so a promoted final renoised to a small sigma keeps its draft's scene."""

    def __init__(self, width=128):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(NOISE_DIM + 4, width), nn.SiLU(), nn.Linear(width, width), nn.SiLU(),
                                 nn.Linear(width, width), nn.SiLU(), nn.Linear(width, NOISE_DIM))

    def forward(self, x, sigma):
        feats = torch.cat([sigma, torch.log(sigma), torch.sin(math.pi * sigma), torch.cos(math.pi * sigma)], -1)
        return self.net(torch.cat([x, feats], -1))

    def clean(self, x, sigma):
        """x0 estimate, inside the data's range [-1, 1]."""
        return torch.clamp(x - sigma * self(x, sigma), -1.0, 1.0)


class Denoiser(nn.Module):
    """The transformer/ graph: latents [B, 83, 1, 1, 1], timestep [B] (sigma x 1000), the text tokens
    [B, 12, 64] -> velocity [B, 83, 1, 1, 1]."""

    def __init__(self, seed_denoiser):
        super().__init__()
        self.heads = nn.ModuleList([nn.Sequential(nn.Linear(D_TXT, D_TXT), nn.ReLU(), nn.Linear(D_TXT, n)) for _, n in ATTRS])
        self.seed = seed_denoiser

    def load_heads(self, onnx_path):
        inits = {i.name: numpy_helper.to_array(i) for i in onnx.load(onnx_path).graph.initializer}
        with torch.no_grad():
            for (name, _), head in zip(ATTRS, self.heads):
                for k in (0, 2):
                    head[k].weight.copy_(torch.from_numpy(inits[f"gen.text.heads.{name}.{k}.weight"].copy()))
                    head[k].bias.copy_(torch.from_numpy(inits[f"gen.text.heads.{name}.{k}.bias"].copy()))

    def forward(self, hidden_states, timestep, encoder_hidden_states):
        b = hidden_states.shape[0]
        x = hidden_states.reshape(b, CHANNELS)
        sigma = torch.clamp(timestep.reshape(b, 1) / 1000.0, min=1e-4)
        posteriors = [torch.softmax(h(encoder_hidden_states[:, i]), -1) for i, h in enumerate(self.heads)]
        x0 = torch.cat(posteriors + [self.seed.clean(x[:, P_DIM:], sigma)], -1)
        return ((x - x0) / sigma).reshape(b, CHANNELS, 1, 1, 1)


def train_seed(steps, seed, log):
    """Flow matching on the seed variation: x0 ~ U[-1, 1]^8 (2.2's training noise, rescaled),
    x_t = (1 - sigma) x0 + sigma eps, loss |v_hat - (eps - x0)|^2, sigma half logit-normal and half
    log-uniform down to 1e-3 (a refine starts at a small sigma)."""
    torch.manual_seed(seed)
    model = SeedDenoiser()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    t0 = time.time()
    losses = []
    for step in range(steps):
        x0 = torch.rand(512, NOISE_DIM) * 2 - 1
        sigma = torch.cat([torch.sigmoid(torch.randn(256, 1)), torch.exp(torch.rand(256, 1) * math.log(1e-3))]).clamp(1e-3, 1.0)
        eps = torch.randn_like(x0)
        xt = (1 - sigma) * x0 + sigma * eps
        loss = ((model(xt, sigma) - (eps - x0)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
        if step % 500 == 0 or step == steps - 1:
            log(f"step {step} loss {np.mean(losses[-100:]):.4f} ({time.time() - t0:.0f}s)")
    return model, {"steps": steps, "seconds": round(time.time() - t0, 1), "final_loss": round(float(np.mean(losses[-200:])), 5)}


def sample_seed(model, n, steps, shift=1.0, seed=0):
    """The worker's sampler in torch (flow-matching Euler from sigma 1 to 0), for the card's statistics."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, NOISE_DIM, generator=g)
    s = torch.linspace(1.0, 1.0 / steps, steps)
    s = shift * s / (1 + (shift - 1) * s)
    sig = torch.cat([s, torch.zeros(1)])
    with torch.no_grad():
        for i in range(steps):
            sigma = torch.full((n, 1), float(sig[i]))
            v = (x - model.clean(x, sigma)) / sigma
            x = x + (sig[i + 1] - sig[i]) * v
    return x


def seed_stats(model, steps):
    x = sample_seed(model, 20000, steps)
    u = (x + 1) / 2
    hist = torch.histc(u.clamp(0, 1), bins=10, min=0, max=1) / u.numel()
    return {"mean": round(float(x.mean()), 4), "std": round(float(x.std()), 4), "uniform_std": round(1 / math.sqrt(3), 4),
            "deciles": [round(float(h), 4) for h in hist]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(2)
    log = lambda s: print(s, flush=True)

    cut_text_encoder(os.path.join(HERE, "text_encoder/model.onnx"))
    # The same words and ids as 2.2's encoder was trained with: its cases pin the TypeScript tokenizer.
    shutil.copyfile(os.path.join(BASE, "tokenizer-cases.json"), os.path.join(HERE, "tokenizer-cases.json"))
    for v in DECODERS:
        cut_decoder(v, os.path.join(HERE, f"vae_decoder/{v}.onnx"))
    log("cut text encoder and decoders out of 2.2")

    seed_model, info = train_seed(args.steps, args.seed, log)
    den = Denoiser(seed_model).eval()
    den.load_heads(base_file("fp32-256"))
    path = os.path.join(HERE, "transformer/model.onnx")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.onnx.export(
        den, (torch.randn(2, CHANNELS, 1, 1, 1), torch.tensor([900.0, 300.0]), torch.randn(2, len(ATTRS), D_TXT)), path,
        input_names=["hidden_states", "timestep", "encoder_hidden_states"], output_names=["sample"],
        dynamic_axes={"hidden_states": {0: "batch"}, "timestep": {0: "batch"}, "encoder_hidden_states": {0: "batch"}, "sample": {0: "batch"}},
        opset_version=13)
    onnx.checker.check_model(onnx.load(path))

    sched_path = os.path.join(HERE, "scheduler/scheduler_config.json")
    os.makedirs(os.path.dirname(sched_path), exist_ok=True)
    with open(sched_path, "w") as f:
        json.dump({"_class_name": "FlowMatchEulerDiscreteScheduler", "_diffusers_version": "0.32.0", "num_train_timesteps": 1000,
                   "shift": 1.0, "use_dynamic_shifting": False, "base_shift": 0.5, "max_shift": 1.15, "base_image_seq_len": 256,
                   "max_image_seq_len": 4096, "shift_terminal": None, "invert_sigmas": False, "use_karras_sigmas": False,
                   "use_exponential_sigmas": False, "use_beta_sigmas": False}, f, indent=2)
        f.write("\n")

    stats = {q: seed_stats(seed_model, s) for q, s in (("draft", 4), ("standard", 6), ("final", 8))}
    write_manifest(info, stats)
    log(json.dumps(stats))


def write_manifest(info, stats):
    base = json.load(open(os.path.join(BASE, "manifest.json")))
    mpath = os.path.join(HERE, "manifest.json")
    old = json.load(open(mpath)) if os.path.exists(mpath) else {}
    ref = lambda rel: {"file": rel, "sha256": sha256(os.path.join(HERE, rel)), "bytes": os.path.getsize(os.path.join(HERE, rel))}
    latent = lambda: {"name": "hidden_states", "role": "latents", "dtype": "float32", "shape": ["batch", "channels", "frames", "height", "width"]}
    text = {"name": "encoder_hidden_states", "role": "text_embeddings", "dtype": "float32", "shape": ["batch", len(ATTRS), D_TXT]}
    tokenizer = {"type": "words", **base["text"]}

    def tier(name, decoder, steps, frames, max_duration_s, fps, max_batch):
        # 2.x's request contract: up to max_duration_s at any fps up to 30.
        t = {"denoiser": "fp32", "decoder": decoder, "steps": steps, "guidance_scale": 1.0, "width": int(decoder.split("-")[1]),
             "height": int(decoder.split("-")[1]), "frames": frames, "max_frames": max_duration_s * 30, "max_duration_s": max_duration_s,
             "fps": fps, "max_batch": max_batch}
        measured = old.get("tiers", {}).get(name, {}).get("ms_per_video")
        if measured:
            t["ms_per_video"] = measured
        return t

    manifest = {
        "format": "pipeline",
        "id": "clickvid-shapes",
        "version": "3.0.0",
        "description": "Tiny text-to-video pipeline for a world of flat coloured shapes (circle/square/triangle, 11 colours, 8 motions, 1-3 objects in one or two groups, solid or vertical-gradient backgrounds): text encoder -> flow-matching denoiser over a scene latent (caption attribute posteriors and seed variation) -> a learned signed-distance-field renderer at the frame times.",
        "license": "MIT",
        "tokenizer": tokenizer,
        "components": {
            "text_encoder": {**ref("text_encoder/model.onnx"),
                             "inputs": [{"name": "input_ids", "role": "token_ids", "dtype": "int64", "shape": ["batch", TOKENS]}],
                             "outputs": [{"name": "last_hidden_state", "role": "text_embeddings", "dtype": "float32", "shape": ["batch", len(ATTRS), D_TXT]}]},
            "denoiser": {"prediction": "velocity", "timestep_value": "timestep",
                         "variants": {"fp32": {**ref("transformer/model.onnx"), "precision": "fp32"}},
                         "inputs": [latent(), {"name": "timestep", "role": "timestep", "dtype": "float32", "shape": ["batch"]}, text],
                         "outputs": [{**latent(), "name": "sample", "role": "prediction"}]},
            "decoder": {"variants": {v: {**ref(f"vae_decoder/{v}.onnx"), "precision": p} for v, p in DECODERS.items()},
                        "chunk": {"axis": "frames"},
                        "video": {"layout": "bfhwc", "range": [0, 255]},
                        "inputs": [{**latent(), "name": "latent_sample"},
                                   {"name": "frame_times", "role": "frame_times", "dtype": "float32", "shape": ["batch", "video_frames"]}],
                        "outputs": [{"name": "video", "role": "video", "dtype": "uint8", "shape": ["batch", "video_frames", "video_height", "video_width", 3]}]},
        },
        "latent": {"layout": "scene", "channels": CHANNELS, "frames": {"multiple_of": 1, "plus": 0},
                   "noise": {"generator": "mulberry32", "distribution": "normal"}},
        "scheduler": {"type": "flow_match_euler", **ref("scheduler/scheduler_config.json")},
        "guidance": {"mode": "cfg", "unconditional_prompt": ""},
        "refine": {"upsample": "nearest", "start_sigma": 0.01, "steps": 1},
        "tiers": {
            "draft": tier("draft", "int8-128", 4, 16, 4, 8, 8),
            "standard": tier("standard", "int8-256", 6, 24, 4, 12, 4),
            "final": tier("final", "fp32-256", 8, 72, 6, 24, 4),
        },
        "training": {**info, "seed_variation_samples": stats, "base": {"model": "clickvid-shapes@2.2.0", **{v: sha256(base_file(v)) for v in DECODERS}}},
    }
    if "eval" in old:
        manifest["eval"] = old["eval"]
    else:
        manifest["eval"] = {"heldout_compositions": base["eval"]["heldout_compositions"]}
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
