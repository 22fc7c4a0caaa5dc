"""Static INT8 quantization of the fixture's transformer, without onnxruntime's quantizer.

Every nn.Linear gets fixed scales: its input per tensor, from the largest |value| seen on
calibration batches, and its weight per output channel. Static scales are what keep a row's
output independent of its batch mates (dynamic quantization would pick a scale per call, from
whatever rows share it). The fake-quantized module exports as QuantizeLinear/DequantizeLinear
pairs; fold_weights then stores each weight as int8, so the file shrinks to about a third.
"""
import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn


def calibrate(transformer, text_encoder, vocabulary_size, max_tokens, channels, batches=32, seed=1):
    """Largest |input| of each nn.Linear over random prompts, latents and timesteps."""
    ranges = {}

    def record(name):
        def hook(_module, inputs, _output):
            ranges[name] = max(ranges.get(name, 0.0), float(inputs[0].abs().max()))
        return hook

    handles = [m.register_forward_hook(record(n)) for n, m in transformer.named_modules() if isinstance(m, nn.Linear)]
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _ in range(batches):
            ids = torch.randint(2, vocabulary_size, (2, max_tokens), generator=g)
            latents = torch.randn(2, channels, 3, 4, 4, generator=g)
            transformer(latents, torch.rand(2, generator=g) * 1000, text_encoder(ids))
    for h in handles:
        h.remove()
    return ranges


class QuantizedLinear(nn.Module):
    """nn.Linear with int8 input (per tensor) and weight (per output channel), symmetric."""

    def __init__(self, linear, input_absmax):
        super().__init__()
        self.linear = linear
        self.input_scale = max(input_absmax, 1e-6) / 127
        self.register_buffer('weight_scale', linear.weight.detach().abs().amax(dim=1).clamp(min=1e-8) / 127)
        self.register_buffer('weight_zero', torch.zeros(linear.out_features, dtype=torch.int32))

    def forward(self, x):
        x = torch.fake_quantize_per_tensor_affine(x, self.input_scale, 0, -128, 127)
        w = torch.fake_quantize_per_channel_affine(self.linear.weight, self.weight_scale, self.weight_zero, 0, -128, 127)
        return nn.functional.linear(x, w, self.linear.bias)


def quantize_linears(module, ranges, prefix=''):
    for name, child in module.named_children():
        path = prefix + name
        if isinstance(child, nn.Linear):
            setattr(module, name, QuantizedLinear(child, ranges[path]))
        else:
            quantize_linears(child, ranges, path + '.')


def fold_weights(path):
    """Replaces QuantizeLinear of a constant weight by the int8 weight itself, in place."""
    model = onnx.load(path)
    graph = model.graph
    initializers = {i.name: i for i in graph.initializer}
    producers = {o: n for n in graph.node for o in n.output}

    def value(name):
        """A constant's value, through the Identity nodes the exporter puts on shared initializers."""
        if name in initializers:
            return numpy_helper.to_array(initializers[name])
        node = producers.get(name)
        if node is not None and node.op_type == 'Constant':
            return numpy_helper.to_array(node.attribute[0].t)
        if node is not None and node.op_type == 'Identity':
            return value(node.input[0])
        return None

    kept = []
    for node in graph.node:
        x, scale, zero = (value(i) for i in node.input[:3]) if node.op_type == 'QuantizeLinear' else (None, None, None)
        if x is None or scale is None:
            kept.append(node)
            continue
        if scale.size > 1:  # per channel, along `axis`
            axis = next((a.i for a in node.attribute if a.name == 'axis'), 1)
            shape = [1] * x.ndim
            shape[axis] = -1
            scale, zero = scale.reshape(shape), zero.reshape(shape)
        q = np.clip(np.round(x / scale) + zero.astype(np.float32), -128, 127).astype(np.int8)
        graph.initializer.append(numpy_helper.from_array(q, node.output[0]))
    # Drop what fed only the folded nodes: the float weights, and constants and identities left unread.
    while True:
        used = {i for n in kept for i in n.input} | {o.name for o in graph.output}
        unread = [n for n in kept if n.op_type in ('Constant', 'Identity') and n.output[0] not in used]
        if not unread:
            break
        kept = [n for n in kept if n not in unread]
    live = [i for i in graph.initializer if i.name in used]
    del graph.node[:]
    graph.node.extend(kept)
    del graph.initializer[:]
    graph.initializer.extend(live)
    onnx.checker.check_model(model)
    onnx.save(model, path)
