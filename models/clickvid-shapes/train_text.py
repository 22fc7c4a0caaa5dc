#!/usr/bin/python3
"""Retrain only the text side of clickvid-shapes on paraphrases; the decoders stay as they are.

    /usr/bin/python3 models/clickvid-shapes/train_text.py --minutes 20

Why only the text side: the decoders (pose MLP, colour MLP, shape field) see nothing but the caption
attribute posteriors the text encoder reads out.  A text encoder that reads the same attributes out of
free text gives them the same inputs, so they need no retraining, and the held-out compositions they
draw stay as they were.  That is checked, not assumed: `node eval.mjs` on every split.

Steps:
  1. the 2.0.0 weights, read back from its fp32 ONNX file (--base; train.py's checkpoint is not
     shipped), checked by re-exporting them and comparing the file's sha256 with the 2.0.0 manifest;
  2. the text encoder grows to the paraphrase vocabulary (lexicon.py): the 40 tokens of 2.0 keep their
     embeddings, new ones start random;
  3. the text encoder is trained, all decoder weights frozen, on captions that are 3 in 4 paraphrases
     (paraphrase.py, no held-out synonym or template) and 1 in 4 the core grammar:
       cross-entropy per attribute + KL to the 2.0 encoder's posteriors on core-grammar captions
       (so that the decoders keep getting what they were trained on);
  4. export + INT8 rewrite + manifest (train.py), the held-out paraphrase eval set (eval-paraphrase.json)
     and tokenizer cases (tokenizer-cases.json) for the TypeScript tokenizer's parity test.
"""
import argparse
import json
import math
import os
import random
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lexicon  # noqa: E402
import paraphrase  # noqa: E402
import train  # noqa: E402
import world  # noqa: E402

ATTRS = world.ATTRIBUTES


def weights_from_onnx(path):
    """State dict of a train.Generator from its fp32 ONNX export: named initializers as they are,
    MatMul weights (stored transposed) by the name of their node, the slot embedding and the first
    field layer from the constants that Expand them."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    init = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in m.graph.initializer}
    sd = {k[len("gen."):]: v for k, v in init.items() if k.startswith("gen.")}
    for n in m.graph.node:
        w = [x for x in n.input if x in init and not x.startswith("gen.")]
        if not w:
            continue
        if n.op_type == "MatMul":       # /text/blocks.0/qkv/MatMul, /pose_mlp/pose_mlp.0/MatMul
            mod = n.name.strip("/").split("/")
            key = ".".join(mod[:-1]).replace("pose_mlp.pose_mlp", "pose_mlp") + ".weight"
            sd[key] = init[w[0]].t().contiguous()
        elif n.op_type == "Expand" and list(init[w[0]].shape) == [1, 1, world.MAX_OBJ, 16]:
            sd["slot"] = init[w[0]].view(world.MAX_OBJ, 16)
        elif n.op_type == "Expand" and list(init[w[0]].shape) == [1, train.NF, train.H1]:
            sd["l0.weight"] = init[w[0]][0].t().contiguous()
    return sd


def load_base(path):
    sd = weights_from_onnx(path)
    base = train.Generator(vocab_size=sd["text.emb.weight"].shape[0])
    base.load_state_dict(sd)     # strict: every weight found
    return base.eval()


# New words start as a 2.0 word that plays their part: prepositions as "on", "pair" as "two", and
# filler as <unk>, which 2.0 was trained to ignore.  Training starts from a model that already reads
# most paraphrases roughly right, and only has to learn where they differ.
INIT_AS = {"against": "on", "over": "on", "in": "on", "at": "on", "with": "on", "pair": "two", "trio": "three"}


def grown(base):
    """The 2.1 generator: 2.0's weights, the embedding table grown to the new vocabulary."""
    gen = train.Generator()
    sd = base.state_dict()
    old = sd["text.emb.weight"]
    assert world.VOCAB[:old.shape[0]] == lexicon.V1_VOCAB
    emb = torch.empty(len(world.VOCAB), old.shape[1])
    g = torch.Generator().manual_seed(7)
    for i, w in enumerate(world.VOCAB):
        src = old[i] if i < old.shape[0] else old[lexicon.V1_VOCAB.index(INIT_AS.get(w, "<unk>"))]
        emb[i] = src + (0 if i < old.shape[0] else 0.05 * torch.randn(old.shape[1], generator=g))
    sd["text.emb.weight"] = emb
    gen.load_state_dict(sd)
    return gen


def with_noise(ids, rng, neutral=True):
    """Random neutral words and unknown words, so the encoder learns that they carry nothing.
    (Core-grammar captions get only unknown words: the 2.0 teacher has no embedding for the new words.)"""
    if neutral and rng.random() < 0.2 and len(ids) < world.MAX_TOKENS:
        ids.insert(rng.randrange(len(ids) + 1), world.VOCAB.index(rng.choice(lexicon.NEUTRAL)))
    if rng.random() < 0.15 and len(ids) < world.MAX_TOKENS:
        ids.insert(rng.randrange(len(ids) + 1), 1)
    return ids + [0] * (world.MAX_TOKENS - len(ids))


def text_batch(rng, n, p_para=0.85):
    toks, specs, core = [], [], []
    for _ in range(n):
        sp = world.sample_spec(rng)
        is_core = rng.random() >= p_para
        text = world.make_prompt(sp, rng) if is_core else paraphrase.phrase(sp, rng)
        ids = [t for t in world.tokenize(text) if t]
        toks.append(with_noise(ids, rng, neutral=not is_core))
        specs.append(sp)
        core.append(is_core)
    toks = torch.tensor(toks)
    used = int((toks != 0).sum(1).max())      # trailing pads change nothing (masked): skip their compute
    return toks[:, :used], train.attr_targets(specs), torch.tensor(core)


def heldout_text_set(n=1024, seed=99):
    rng = random.Random(seed)
    specs = [world.sample_spec(rng) for _ in range(n)]
    toks = torch.tensor([world.tokenize(paraphrase.phrase(sp, rng, "heldout")) for sp in specs])
    return toks, train.attr_targets(specs)


def leaked_heldout_forms(n=20000, seed=5):
    """Held-out templates or background phrases found in n training captions (must be none)."""
    rng, found = random.Random(seed), {}
    for _ in range(n):
        text = paraphrase.phrase(world.sample_spec(rng), rng)
        form = paraphrase.heldout_form(world.words(text))
        if form or any(w in lexicon.HELDOUT_SYNONYMS for w in text.lower().replace(",", " ").split()):
            found.setdefault(form or "held-out synonym", text)
    return found


@torch.no_grad()
def by_form(enc, n=1024, seed=99):
    """Text-encoder accuracy on the held-out paraphrases, per held-out form (None: held-out synonyms or
    prefixes only), on colour, background and all attributes."""
    rng = random.Random(seed)
    specs = [world.sample_spec(rng) for _ in range(n)]
    texts = [paraphrase.phrase(sp, rng, "heldout") for sp in specs]
    toks, tg = torch.tensor([world.tokenize(t) for t in texts]), train.attr_targets(specs)
    forms = [paraphrase.heldout_form(world.words(t)) or "synonyms/prefixes only" for t in texts]
    out = {}
    for form in sorted(set(forms)):
        ix = torch.tensor([i for i, f in enumerate(forms) if f == form])
        acc = text_accuracy(enc, toks[ix], {a: v[ix] for a, v in tg.items()})
        out[form] = {"n": len(ix), "color": round(acc["color"], 4), "bg": round(acc["bg"], 4), "all": round(acc["all"], 4)}
    return out


@torch.no_grad()
def text_accuracy(enc, toks, targets):
    logits = enc(toks)
    out = {}
    for a in ATTRS:
        t = targets[a]
        keep = t != world.IGNORE
        out[a] = float((logits[a].argmax(-1)[keep] == t[keep]).float().mean())
    every = torch.ones(toks.shape[0], dtype=torch.bool)
    for a in ATTRS:
        t = targets[a]
        every &= (logits[a].argmax(-1) == t) | (t == world.IGNORE)
    out["all"] = float(every.float().mean())
    return out


# ------------------------------------------------------------------ the held-out paraphrase eval set
EVAL_ATTRS = ("count", "color", "shape", "motion", "background")

# A creator's own words, written by hand (the kinds of prompt), scored with the generated set.
HAND = [
    ("on a white background, a yellow triangle moves left", dict(count=1, color="yellow", shape="triangle", motion="moving left", background="white")),
    ("2 red balls rising on a black backdrop", dict(count=2, color="red", shape="circle", motion="moving up", background="black")),
    ("A pair of blue boxes sliding left against orange", dict(count=2, color="blue", shape="square", motion="moving left", background="orange")),
    ("three white dots descending, gray background", dict(count=3, color="white", shape="circle", motion="moving down", background="gray")),
    ("Make a video of an orange square expanding on a blue backdrop please", dict(count=1, color="orange", shape="square", motion="growing", background="blue")),
    ("a magenta orb travelling leftward over green", dict(count=1, color="magenta", shape="circle", motion="moving left", background="green")),
    ("I want a green triangle heading right. The background is purple!", dict(count=1, color="green", shape="triangle", motion="moving right", background="purple")),
    ("TWO CYAN BLOCKS CONTRACTING ON A RED BACKGROUND", dict(count=2, color="cyan", shape="square", motion="shrinking", background="red")),
    ("a couple of purple circles twirling on a yellow backdrop", dict(count=2, color="purple", shape="circle", motion="spinning", background="yellow")),
    ("one black ball falling on white", dict(count=1, color="black", shape="circle", motion="moving down", background="white")),
    ("Red box, bouncing, on a cyan backdrop.", dict(count=1, color="red", shape="square", motion="bouncing", background="cyan")),
    ("three tiny blue dots drifting from left to right on an orange background", dict(count=3, color="blue", shape="circle", motion="moving right", background="orange")),
]


def expected(spec):
    e = {"count": spec["count"], "color": spec["color"], "shape": spec["shape"],
         "motion": spec["motion"], "background": spec["bg"]}
    if spec["second"]:
        g = spec["second"]
        e["and"] = {"count": g["count"], "color": g["color"], "shape": g["shape"]}
    if spec["bg2"]:
        e["background2"] = spec["bg2"]
    return e


def eval_set(n=96, seed=20261129):
    """Held-out paraphrases of compositions seen in training (the composition split is separate): every
    prompt has a held-out synonym or template.  Motion is always named, so that it can be scored."""
    rng = random.Random(seed)
    items = [{**e, "prompt": p, "seed": rng.randrange(2 ** 31), "hand": True} for p, e in HAND]
    while len(items) < n:
        sp = world.sample_spec(rng)
        if sp["motion"] is None:
            continue
        items.append({**expected(sp), "prompt": paraphrase.phrase(sp, rng, "heldout"), "seed": rng.randrange(2 ** 31)})
    return items


def tokenizer_cases():
    """Prompts and their token ids, for packages/core's tokenizer test (one tokenizer, two languages)."""
    prompts = [p for p, _ in HAND] + [
        "A RED circles, sparkling on a blue background!", "constructor toString __proto__ hasOwnProperty",
        "2 grey balls; a pair of 3 tiny orbs!!", "make a video of ... a cat", "",
        "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty twenty-one twenty-two twenty-three twenty-four twenty-five",
        "Ünïcödé café — naïve ﬁsh 𝔸 BOX",
    ]
    return [{"prompt": p, "tokens": world.tokenize(p), "words": world.words(p)} for p in prompts]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--steps", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=96)
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--base", default=os.path.join(HERE, "fp32-256.5a12e562313a9bb2.onnx"),
                    help="the 2.0.0 fp32 ONNX file the decoders come from")
    ap.add_argument("--base-sha", default="5a12e562313a9bb27176f1ba0037e8367423bfccee07d65a3d9f1cb50dc3fd9a")
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--check-base", action="store_true", help="only check that the base weights re-export to the same file")
    ap.add_argument("--export-only", action="store_true", help="re-export from text-checkpoint.pt")
    ap.add_argument("--resume", action="store_true", help="continue training from text-checkpoint.pt")
    ap.add_argument("--init", help="start the text encoder from this fp32 ONNX file of an earlier text retrain "
                                   "(same vocabulary), e.g. models/clickvid-shapes-2.1/fp32-256.0df0de0fca7db65b.onnx")
    ap.add_argument("--version", default="2.2.0")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    log = lambda s: print(f"[{time.strftime('%H:%M:%S')}] {s}", flush=True)

    base = load_base(args.base)
    if args.check_base:
        tmp = os.path.join(args.out, ".tmp-base-check.onnx")
        train.export_fp32(base, *train.EXPORTS[256], tmp)
        sha = train.sha256(tmp)
        os.remove(tmp)
        log(f"re-exported base sha256 {sha} ({'same as' if sha == args.base_sha else 'DIFFERENT from'} 2.0.0)")
        return
    gen = grown(base)
    if args.init:
        gen.text.load_state_dict(load_base(args.init).text.state_dict())
        log(f"text encoder from {args.init}")
    leaks = leaked_heldout_forms()
    if leaks:
        sys.exit(f"held-out templates in training captions: {leaks}")
    log("20,000 training captions checked: no held-out synonym, template or background phrase")
    ck = os.path.join(args.out, "text-checkpoint.pt")
    info = {}
    hv_toks, hv_t = heldout_text_set()
    if args.export_only or args.resume:
        st = torch.load(ck)
        gen.text.load_state_dict(st["text"])
        info = st["info"]
        log(f"loaded {ck}: {info}")
        rng = random.Random(args.seed + info.get("steps", 0))     # new data, not the first run's again
    if not args.export_only:
        for p in gen.parameters():
            p.requires_grad_(False)
        params = list(gen.text.parameters())
        for p in params:
            p.requires_grad_(True)
        opt = torch.optim.Adam(params, lr=args.lr)
        teacher = base.text
        t0, step, ema = time.time(), 0, None
        budget = args.minutes * 60
        while True:
            prog = max(step / args.steps, (time.time() - t0) / budget)
            if prog >= 1.0:
                break
            lr = args.lr * 0.5 * (1 + math.cos(math.pi * prog)) * min(1.0, (step + 1) / 200)
            for g in opt.param_groups:
                g["lr"] = lr
            toks, tg, core = text_batch(rng, args.batch)
            gen.text.train()
            logits = gen.text(toks)
            ce = sum(F.cross_entropy(logits[a], tg[a], ignore_index=world.IGNORE) for a in ATTRS)
            with torch.no_grad():
                tl = teacher(toks[core]) if core.any() else None
            kl = sum(F.kl_div(F.log_softmax(logits[a][core], -1), F.log_softmax(tl[a], -1), log_target=True,
                              reduction="batchmean") for a in ATTRS) if tl is not None else torch.zeros(())
            loss = ce + kl
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            st = {"ce": ce.item(), "kl": kl.item()}
            ema = st if ema is None else {k: 0.95 * ema[k] + 0.05 * v for k, v in st.items()}
            step += 1
            if step % 200 == 0:
                gen.text.eval()
                acc = text_accuracy(gen.text, hv_toks, hv_t)
                log(f"step {step} prog {prog:.3f} lr {lr:.2e} ce {ema['ce']:.4f} kl {ema['kl']:.4f} heldout-text "
                    + " ".join(f"{a} {v:.3f}" for a, v in acc.items()))
            if step % 2000 == 0:
                torch.save({"text": gen.text.state_dict(), "info": {"steps": step}}, ck)
        before = info if args.resume else {"steps": 0, "minutes": 0.0, "command": ""}
        cmd = f"/usr/bin/python3 models/clickvid-shapes/train_text.py --minutes {args.minutes:g} --lr {args.lr:g}" + \
            (f" --init {os.path.relpath(args.init)}" if args.init else "")
        info = {"steps": before["steps"] + step, "minutes": round(before["minutes"] + (time.time() - t0) / 60, 2),
                "seed": args.seed, "command": (before["command"] + " && " + cmd + " --resume") if args.resume else cmd,
                "trained": "text encoder only (decoders frozen, from 2.0.0)", "base_sha256": args.base_sha,
                "final_losses": {k: round(v, 5) for k, v in (ema or {}).items()}}
        torch.save({"text": gen.text.state_dict(), "info": info}, ck)
        log(f"trained {step} steps in {info['minutes']} min")
    gen.eval()
    info["heldout_text_accuracy"] = {k: round(v, 4) for k, v in text_accuracy(gen.text, hv_toks, hv_t).items()}
    info["heldout_text_accuracy_by_form"] = by_form(gen.text)
    log("by held-out form: " + json.dumps(info["heldout_text_accuracy_by_form"]))
    log("held-out paraphrases, text encoder argmax: " + json.dumps(info["heldout_text_accuracy"]))
    variants = train.build_artifacts(gen, args.out, log)
    train.write_manifest(args.out, variants, info, version=args.version)
    with open(os.path.join(args.out, "eval-paraphrase.json"), "w") as fh:
        json.dump({"about": "held-out paraphrases (synonyms and templates never in a training caption); written by "
                            "train_text.py", "items": eval_set()}, fh, indent=1)
        fh.write("\n")
    with open(os.path.join(args.out, "tokenizer-cases.json"), "w") as fh:
        json.dump(tokenizer_cases(), fh, indent=1)
        fh.write("\n")
    log("wrote manifest, eval-paraphrase.json, tokenizer-cases.json + " + ", ".join(v["file"] for v in variants.values()))


if __name__ == "__main__":
    main()
