#!/usr/bin/python3
"""Builds the random-weight pipeline fixture in optimum's ONNX folder layout.

    /usr/bin/python3 models/pipeline-fixture/build.py        (Debian python3-torch 1.13 + python3-onnx)

Writes text_encoder/model.onnx, transformer/model.onnx, vae_decoder/model.onnx,
scheduler/scheduler_config.json and manifest.json (pipeline form, every file with its sha256).
The weights are random (seeded): the fixture draws noise. It exists to prove that a model shaped
like LTX-Video or Wan (token ids → text encoder → a DiT over [batch, channels, frames, h, w]
latents called once per step → a VAE-style decoder) runs through the worker's code, and to
measure the step scheduler. Same torch version, same bytes.
"""
import copy
import hashlib
import json
import math
import os
import sys

import torch
from torch import nn

sys.dont_write_bytecode = True  # no __pycache__ beside the model files
import quantize  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261129

VOCABULARY = ['<pad>', '<unk>', 'a', 'the', 'on', 'and', 'red', 'green', 'blue', 'yellow', 'white', 'black',
              'circle', 'square', 'triangle', 'moving', 'left', 'right', 'up', 'down', 'spinning', 'bouncing',
              'background', 'slowly', 'quickly']
FUNCTION_WORDS = ['a', 'the', 'on', 'and', 'moving', 'background']
MAX_TOKENS = 16
TEXT_DIM = 64

# Shaped like LTX-Video's latent (32× spatial, 8× temporal, 128 channels, patch 1), scaled down.
CHANNELS = 16  # latent channels
TEMPORAL = 8  # video frames per latent frame (the first latent frame is one video frame: 8k+1 frames)
SPATIAL = 16  # pixels per latent cell, per side
PATCH = 1  # DiT patch, per side
DIM, HEADS, LAYERS = 64, 4, 4

SCHEDULER_CONFIG = {
    '_class_name': 'FlowMatchEulerDiscreteScheduler',
    '_diffusers_version': '0.32.0',
    'num_train_timesteps': 1000,
    'shift': 3.0,
    'use_dynamic_shifting': False,
    'base_shift': 0.5,
    'max_shift': 1.15,
    'base_image_seq_len': 256,
    'max_image_seq_len': 4096,
    'shift_terminal': None,
    'invert_sigmas': False,
    'use_karras_sigmas': False,
    'use_exponential_sigmas': False,
    'use_beta_sigmas': False,
}

TIERS = {
    # Latent rows: draft [16, 2, 4, 4], standard [16, 3, 6, 6], final [16, 4, 8, 8].
    'draft': dict(denoiser='int8', steps=4, guidance_scale=1.0, width=64, height=64, frames=9, max_frames=17, fps=8, max_batch=8),
    'standard': dict(denoiser='fp32', steps=8, guidance_scale=3.0, width=96, height=96, frames=17, max_frames=33, fps=8, max_batch=4),
    'final': dict(denoiser='fp32', steps=12, guidance_scale=4.0, width=128, height=128, frames=25, max_frames=49, fps=12, max_batch=4),
}

# Refine-on-promote: a final promoted from a draft starts from the draft's latents, upsampled to
# its own latent shape, noised to sigma 0.6 with its seed noise, and denoised in 6 steps from there.
REFINE = {'upsample': 'trilinear', 'start_sigma': 0.6, 'steps': 6}


def attention(q, k, v, heads):
    """Scaled dot-product attention written out: exports to plain MatMul/Softmax at opset 13."""
    b, n, d = q.shape
    m = k.shape[1]
    dh = d // heads
    q = q.reshape(b, n, heads, dh).transpose(1, 2)
    k = k.reshape(b, m, heads, dh).transpose(1, 2)
    v = v.reshape(b, m, heads, dh).transpose(1, 2)
    w = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh), dim=-1)
    return (w @ v).transpose(1, 2).reshape(b, n, d)


class SelfAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        return self.out(attention(q, k, v, self.heads))


class TextEncoder(nn.Module):
    """Token ids → hidden states: embedding, learned positions, one self-attention block."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(len(VOCABULARY), TEXT_DIM)
        self.pos = nn.Parameter(torch.randn(MAX_TOKENS, TEXT_DIM) * 0.02)
        self.norm1 = nn.LayerNorm(TEXT_DIM)
        self.attn = SelfAttention(TEXT_DIM, 4)
        self.norm2 = nn.LayerNorm(TEXT_DIM)
        self.mlp = nn.Sequential(nn.Linear(TEXT_DIM, 2 * TEXT_DIM), nn.GELU(), nn.Linear(2 * TEXT_DIM, TEXT_DIM))
        self.final = nn.LayerNorm(TEXT_DIM)

    def forward(self, input_ids):
        x = self.embed(input_ids) + self.pos
        x = x + self.attn(self.norm1(x))
        x = x + self.mlp(self.norm2(x))
        return self.final(x)


def timestep_embedding(t, dim):
    """Sinusoidal embedding of the diffusers timestep (σ·1000), one per row."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t[:, None] * freqs[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class Block(nn.Module):
    """DiT block: self-attention over patches and MLP modulated by the timestep (adaLN-single, as in
    PixArt and LTX-Video: one shared projection of the timestep, a learned table per block), and
    cross-attention to the text."""

    def __init__(self):
        super().__init__()
        self.norm1 = nn.LayerNorm(DIM, elementwise_affine=False)
        self.attn = SelfAttention(DIM, HEADS)
        self.norm2 = nn.LayerNorm(DIM)
        self.q = nn.Linear(DIM, DIM)
        self.kv = nn.Linear(TEXT_DIM, 2 * DIM)
        self.cross_out = nn.Linear(DIM, DIM)
        self.norm3 = nn.LayerNorm(DIM, elementwise_affine=False)
        self.mlp = nn.Sequential(nn.Linear(DIM, 4 * DIM), nn.GELU(), nn.Linear(4 * DIM, DIM))
        self.table = nn.Parameter(torch.randn(6 * DIM) / math.sqrt(DIM))

    def forward(self, x, ada, text):
        s1, b1, g1, s2, b2, g2 = (ada + self.table)[:, None, :].chunk(6, dim=-1)
        x = x + g1 * self.attn(self.norm1(x) * (1 + s1) + b1)
        k, v = self.kv(text).chunk(2, dim=-1)
        x = x + self.cross_out(attention(self.q(self.norm2(x)), k, v, HEADS))
        return x + g2 * self.mlp(self.norm3(x) * (1 + s2) + b2)


class Transformer(nn.Module):
    """Latents [batch, channels, frames, h, w] + per-row timestep + text → velocity, same shape."""

    def __init__(self):
        super().__init__()
        self.patch = nn.Conv3d(CHANNELS, DIM, kernel_size=(1, PATCH, PATCH), stride=(1, PATCH, PATCH))
        # A depthwise 3-D convolution gives the tokens their place in space and time (no fixed-length position table).
        self.where = nn.Conv3d(DIM, DIM, kernel_size=3, padding=1, groups=DIM)
        self.temb = nn.Sequential(nn.Linear(DIM, DIM), nn.SiLU(), nn.Linear(DIM, 6 * DIM))
        self.blocks = nn.ModuleList([Block() for _ in range(LAYERS)])
        self.norm = nn.LayerNorm(DIM, elementwise_affine=False)
        self.proj = nn.Linear(DIM, CHANNELS * PATCH * PATCH)

    def forward(self, hidden_states, timestep, encoder_hidden_states):
        b, c, f, h, w = hidden_states.shape
        x = self.patch(hidden_states)
        x = x + self.where(x)
        hp, wp = h // PATCH, w // PATCH
        x = x.flatten(2).transpose(1, 2)  # [b, f·hp·wp, DIM]
        ada = self.temb(timestep_embedding(timestep, DIM))  # [b, 6·DIM], one per row: rows may be at different steps
        for block in self.blocks:
            x = block(x, ada, encoder_hidden_states)
        x = self.proj(self.norm(x))  # [b, n, c·p·p]
        x = x.reshape(b, f, hp, wp, c, PATCH, PATCH).permute(0, 4, 1, 2, 5, 3, 6)
        return x.reshape(b, c, f, h, w)


class VaeDecoder(nn.Module):
    """Latents → RGB in [-1, 1], [batch, 3, TEMPORAL·frames, SPATIAL·h, SPATIAL·w]; each latent frame decodes alone.

    Per latent cell: a 3×3 convolution, then TEMPORAL frames of features, each unfolded to a
    SPATIAL×SPATIAL pixel patch (pixel shuffle). Frames depend on their own latent frame only,
    which is what makes the decoder chunkable along frames.
    """

    FEATURES = 48

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv3d(CHANNELS, 64, kernel_size=(1, 3, 3), padding=(0, 1, 1))
        self.frames = nn.Conv3d(64, TEMPORAL * self.FEATURES, kernel_size=1)
        self.pixels = nn.Conv3d(self.FEATURES, 3 * SPATIAL * SPATIAL, kernel_size=1)

    def forward(self, latent_sample):
        b, _, f, h, w = latent_sample.shape
        x = self.frames(torch.nn.functional.silu(self.conv(latent_sample)))  # [b, T·F, f, h, w]
        x = x.reshape(b, TEMPORAL, self.FEATURES, f, h, w).permute(0, 2, 3, 1, 4, 5).reshape(b, self.FEATURES, f * TEMPORAL, h, w)
        x = self.pixels(torch.nn.functional.silu(x))  # [b, 3·S·S, frames, h, w]
        x = x.reshape(b, 3, SPATIAL, SPATIAL, f * TEMPORAL, h, w).permute(0, 1, 4, 5, 2, 6, 3)
        return torch.tanh(x.reshape(b, 3, f * TEMPORAL, h * SPATIAL, w * SPATIAL))


TRANSFORMER_AXES = {'hidden_states': {0: 'batch', 2: 'frames', 3: 'height', 4: 'width'}, 'timestep': {0: 'batch'},
                    'encoder_hidden_states': {0: 'batch'}, 'sample': {0: 'batch', 2: 'frames', 3: 'height', 4: 'width'}}


def export(module, args, path, inputs, outputs, dynamic):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.onnx.export(module, args, path, input_names=inputs, output_names=outputs, dynamic_axes=dynamic,
                      opset_version=13, do_constant_folding=True)


def ref(rel):
    data = open(os.path.join(HERE, rel), 'rb').read()
    return {'file': rel, 'sha256': hashlib.sha256(data).hexdigest(), 'bytes': len(data)}


def main():
    torch.manual_seed(SEED)
    text_encoder, transformer, decoder = TextEncoder().eval(), Transformer().eval(), VaeDecoder().eval()
    # Random DiT outputs are large; scale the head so velocities are O(1) and twelve steps stay finite.
    with torch.no_grad():
        transformer.proj.weight.mul_(0.5)
    ids = torch.zeros(2, MAX_TOKENS, dtype=torch.long)
    latents = torch.randn(2, CHANNELS, 3, 4, 4)
    with torch.no_grad():
        export(text_encoder, (ids,), os.path.join(HERE, 'text_encoder/model.onnx'), ['input_ids'], ['last_hidden_state'],
               {'input_ids': {0: 'batch'}, 'last_hidden_state': {0: 'batch'}})
        text = text_encoder(ids)
        export(transformer, (latents, torch.tensor([1000.0, 500.0]), text), os.path.join(HERE, 'transformer/model.onnx'),
               ['hidden_states', 'timestep', 'encoder_hidden_states'], ['sample'], TRANSFORMER_AXES)
        # The INT8 variant (optimum names it model_quantized.onnx): static scales, see quantize.py.
        int8 = copy.deepcopy(transformer)
        quantize.quantize_linears(int8, quantize.calibrate(transformer, text_encoder, len(VOCABULARY), MAX_TOKENS, CHANNELS))
        export(int8, (latents, torch.tensor([1000.0, 500.0]), text), os.path.join(HERE, 'transformer/model_quantized.onnx'),
               ['hidden_states', 'timestep', 'encoder_hidden_states'], ['sample'], TRANSFORMER_AXES)
        quantize.fold_weights(os.path.join(HERE, 'transformer/model_quantized.onnx'))
        export(decoder, (latents,), os.path.join(HERE, 'vae_decoder/model.onnx'), ['latent_sample'], ['sample'],
               {'latent_sample': {0: 'batch', 2: 'frames', 3: 'height', 4: 'width'},
                'sample': {0: 'batch', 2: 'video_frames', 3: 'video_height', 4: 'video_width'}})
    os.makedirs(os.path.join(HERE, 'scheduler'), exist_ok=True)
    with open(os.path.join(HERE, 'scheduler/scheduler_config.json'), 'w') as f:
        json.dump(SCHEDULER_CONFIG, f, indent=2)
        f.write('\n')

    latent_shape = ['batch', 'channels', 'frames', 'height', 'width']
    text_shape = ['batch', MAX_TOKENS, TEXT_DIM]
    manifest = {
        'format': 'pipeline',
        'id': 'pipeline-fixture',
        'version': '0.1.0',
        'description': 'Random-weight pipeline shaped like an exported text-to-video model (optimum ONNX layout). '
                       'It draws noise: for tests and benches, never served by default.',
        'license': 'MIT',
        'tokenizer': {'type': 'words', 'max_tokens': MAX_TOKENS, 'vocabulary': VOCABULARY, 'aliases': {'grey': 'white'},
                      'function_words': FUNCTION_WORDS},
        'components': {
            'text_encoder': {
                **ref('text_encoder/model.onnx'),
                'inputs': [{'name': 'input_ids', 'role': 'token_ids', 'dtype': 'int64', 'shape': ['batch', MAX_TOKENS]}],
                'outputs': [{'name': 'last_hidden_state', 'role': 'text_embeddings', 'dtype': 'float32', 'shape': text_shape}],
            },
            'denoiser': {
                'prediction': 'velocity',
                'timestep_value': 'timestep',
                'variants': {'fp32': {**ref('transformer/model.onnx'), 'precision': 'fp32'},
                             'int8': {**ref('transformer/model_quantized.onnx'), 'precision': 'int8'}},
                'inputs': [
                    {'name': 'hidden_states', 'role': 'latents', 'dtype': 'float32', 'shape': latent_shape},
                    {'name': 'timestep', 'role': 'timestep', 'dtype': 'float32', 'shape': ['batch']},
                    {'name': 'encoder_hidden_states', 'role': 'text_embeddings', 'dtype': 'float32', 'shape': text_shape},
                ],
                'outputs': [{'name': 'sample', 'role': 'prediction', 'dtype': 'float32', 'shape': latent_shape}],
            },
            'decoder': {
                **ref('vae_decoder/model.onnx'),
                'chunk': {'axis': 'frames'},
                'video': {'layout': 'bcfhw', 'range': [-1, 1]},
                'scaling_factor': 1.0,
                'shift_factor': 0.0,
                'inputs': [{'name': 'latent_sample', 'role': 'latents', 'dtype': 'float32', 'shape': latent_shape}],
                'outputs': [{'name': 'sample', 'role': 'video', 'dtype': 'float32',
                             'shape': ['batch', 3, 'video_frames', 'video_height', 'video_width']}],
            },
        },
        'latent': {'channels': CHANNELS, 'temporal_compression': TEMPORAL, 'spatial_compression': SPATIAL,
                   'frames': {'multiple_of': TEMPORAL, 'plus': 1},
                   'noise': {'generator': 'mulberry32', 'distribution': 'normal'}},
        'scheduler': {'type': 'flow_match_euler', **ref('scheduler/scheduler_config.json')},
        'guidance': {'mode': 'cfg', 'unconditional_prompt': ''},
        'refine': REFINE,
        'tiers': TIERS,
    }
    with open(os.path.join(HERE, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')
    for f in ('text_encoder/model.onnx', 'transformer/model.onnx', 'transformer/model_quantized.onnx', 'vae_decoder/model.onnx'):
        print(ref(f))


if __name__ == '__main__':
    main()
