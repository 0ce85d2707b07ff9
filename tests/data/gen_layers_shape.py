"""Writes tests/data/layers_shape.json: PyTorch's numbers for tests/layers_shape.rs.

Run with PyTorch 2.15 (CPU): `python tests/data/gen_layers_shape.py`. Inputs are built from
`seq(shape)`, the same formula on both sides: x_k = ((37 k + 11) mod 101) / 50 - 1 in float64
(exact division results, so a float32 cast is the same on both sides).
"""
import json
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)


def seq(*shape, dtype=torch.float64):
    n = 1
    for d in shape:
        n *= d
    k = torch.arange(n, dtype=torch.int64)
    return (((k * 37 + 11) % 101).double() / 50 - 1).reshape(shape).to(dtype)


def vals(t):
    t = t.detach().contiguous()
    if t.dtype == torch.float32:
        return {"shape": list(t.shape), "f32_bits": [struct.unpack("<I", struct.pack("<f", v))[0] for v in t.flatten().tolist()]}
    if t.dtype == torch.float64:
        return {"shape": list(t.shape), "f64": t.flatten().tolist()}
    return {"shape": list(t.shape), "i64": t.flatten().tolist()}


out = {"torch_version": torch.__version__, "values": {}, "grads": {}, "errors": {}, "reprs": {}}
V = out["values"]

# Forward values: name -> (callable of the seq input(s)). Both dtypes for the resampling ones.
for dt, tag in [(torch.float64, "f64"), (torch.float32, "f32")]:
    V[f"pad_reflect_neg_{tag}"] = vals(F.pad(seq(1, 2, 4, 5, dtype=dt), (2, -1, 1, 3), mode="reflect"))
    V[f"pad_replicate_3d_{tag}"] = vals(F.pad(seq(1, 2, 3, 3, 3, dtype=dt), (1, 2, 0, 1, 2, 0), mode="replicate"))
    V[f"pad_circular_{tag}"] = vals(F.pad(seq(1, 1, 3, 4, dtype=dt), (2, 1, -1, 2), mode="circular"))
    V[f"pad_constant_4d_{tag}"] = vals(F.pad(seq(2, 3, 2, 2, dtype=dt), (1, -1, 0, 2, -1, 1, 1, 0), value=-2.5))
    V[f"nearest_size_{tag}"] = vals(F.interpolate(seq(1, 1, 5, 7, dtype=dt), size=(3, 10), mode="nearest"))
    V[f"nearest_scale_{tag}"] = vals(F.interpolate(seq(1, 2, 4, 3, dtype=dt), scale_factor=1.7, mode="nearest"))
    V[f"nearest_1d_{tag}"] = vals(F.interpolate(seq(2, 1, 5, dtype=dt), scale_factor=0.6, mode="nearest"))
    V[f"bilinear_scale_{tag}"] = vals(F.interpolate(seq(1, 2, 3, 4, dtype=dt), scale_factor=(1.5, 2.3), mode="bilinear", align_corners=False))
    V[f"bilinear_down_{tag}"] = vals(F.interpolate(seq(1, 1, 7, 6, dtype=dt), size=(3, 4), mode="bilinear"))
    V[f"bilinear_ac_{tag}"] = vals(F.interpolate(seq(1, 2, 3, 4, dtype=dt), size=(7, 2), mode="bilinear", align_corners=True))
    V[f"linear_{tag}"] = vals(F.interpolate(seq(1, 2, 4, dtype=dt), scale_factor=2.5, mode="linear"))
    V[f"trilinear_{tag}"] = vals(F.interpolate(seq(1, 1, 2, 3, 2, dtype=dt), size=(3, 4, 3), mode="trilinear", align_corners=True))
    V[f"normalize_p1_dim0_{tag}"] = vals(F.normalize(seq(3, 4, dtype=dt), p=1.0, dim=0))

V["pad_constant_int"] = vals(F.pad(torch.arange(12).view(3, 4), (1, -2, -1, 2), value=7.9))
V["one_hot"] = vals(F.one_hot(torch.tensor([[3, 0], [1, 3]]), 6))
V["pixel_shuffle"] = vals(F.pixel_shuffle(seq(2, 8, 2, 3), 2))
V["pixel_unshuffle"] = vals(F.pixel_unshuffle(seq(1, 2, 6, 4), 2))

# Embedding bags: output and weight gradient for g = seq(output shape).
G = out["grads"]


def with_grad(name, f, *inputs):
    xs = [x.clone().requires_grad_(x.is_floating_point()) for x in inputs]
    y = f(*xs)
    g = seq(*y.shape)
    y.backward(g)
    G[name] = {"out": vals(y), "grads": [vals(x.grad) if x.grad is not None else None for x in xs]}


w = seq(7, 3)
idx = torch.tensor([1, 2, 4, 5, 4, 3, 2, 0, 6])
off = torch.tensor([0, 2, 2, 6])
psw = seq(9) + 1.5
with_grad("bag_sum_psw", lambda w, p: F.embedding_bag(idx, w, off, mode="sum", per_sample_weights=p), w, psw)
with_grad("bag_mean", lambda w: F.embedding_bag(idx, w, off, mode="mean"), w)
with_grad("bag_max", lambda w: F.embedding_bag(idx, w, off, mode="max"), w)
with_grad("bag_mean_pad_last", lambda w: F.embedding_bag(idx, w, torch.tensor([0, 3, 9]), mode="mean", padding_idx=4, include_last_offset=True), w)
with_grad("bag_2d_sum", lambda w: F.embedding_bag(idx.view(3, 3), w, mode="sum"), w)
with_grad("embedding_pad", lambda w: F.embedding(idx.view(3, 3), w, padding_idx=-3), w)

# Dropout masks after manual_seed (float32, the modules' default).
torch.manual_seed(0)
V["dropout2d_seed0"] = vals(F.dropout2d(torch.ones(2, 5, 3, 3), 0.3))
torch.manual_seed(7)
V["dropout1d_seed7"] = vals(F.dropout1d(torch.ones(3, 6, 4), 0.6))
torch.manual_seed(7)
V["dropout1d_2d_seed7"] = vals(F.dropout1d(torch.ones(6, 4), 0.6))
torch.manual_seed(3)
d = nn.Dropout2d(0.5)
V["dropout2d_module_seed3"] = vals(d(torch.ones(4, 6, 2, 2)))
torch.manual_seed(5)
V["dropout2d_16ch_seed5"] = vals(F.dropout2d(torch.ones(2, 16, 1, 1), 0.25))
torch.manual_seed(0)
V["embedding_bag_init_seed0"] = vals(nn.EmbeddingBag(10, 3, padding_idx=4).weight)

# Reprs.
R = out["reprs"]
for m in [
    "nn.Embedding(6, 3, padding_idx=2)",
    "nn.Embedding(6, 3, padding_idx=-1)",
    "nn.Embedding(6, 3)",
    "nn.EmbeddingBag(10, 3)",
    "nn.EmbeddingBag(10, 3, mode='sum', padding_idx=1)",
    "nn.Upsample(scale_factor=2)",
    "nn.Upsample(size=(4, 5), mode='bilinear', align_corners=True)",
    "nn.Upsample(size=4)",
    "nn.Upsample(scale_factor=(2, 1.5))",
    "nn.PixelShuffle(2)",
    "nn.PixelUnshuffle(3)",
    "nn.Dropout2d()",
    "nn.Dropout1d(0.25)",
]:
    R[m] = repr(eval(m))

# Error messages (the first line of PyTorch's).
E = out["errors"]


def err(name, f):
    try:
        f()
    except Exception as e:  # noqa: BLE001
        E[name] = str(e).split("\n")[0]
        return
    raise AssertionError(name + " did not raise")


x4 = torch.randn(1, 2, 3, 2)
err("reflect_too_big", lambda: F.pad(x4, (2, 2), mode="reflect"))
err("reflect_too_big_w", lambda: F.pad(x4, (2, 2, 1, 1), mode="reflect"))
err("reflect_too_big_h", lambda: F.pad(x4, (1, 1, 3, 3), mode="reflect"))
err("pad_odd", lambda: F.pad(x4, (1,)))
err("pad_too_long", lambda: F.pad(x4, (1, 1) * 5))
err("pad_dims", lambda: F.pad(torch.randn(2, 3), (1, 1, 1, 1), mode="replicate"))
err("pad_mode", lambda: F.pad(x4, (1, 1), mode="foo"))
err("pad_value", lambda: F.pad(torch.randn(2, 3, 4), (1, 1), mode="reflect", value=1.0))
err("pad_empty_dim", lambda: F.pad(torch.randn(2, 0, 4), (1, 1), mode="reflect"))
err("pad_out_small_1d", lambda: F.pad(torch.randn(2, 3, 4), (-3, -2), mode="replicate"))
err("pad_out_small_2d", lambda: F.pad(torch.randn(2, 2, 4, 4), (-4, -1, 0, 0), mode="reflect"))
err("pad_circular_wrap", lambda: F.pad(torch.randn(2, 3, 4), (5, 1), mode="circular"))
err("pad_circular_empty", lambda: F.pad(torch.randn(2, 3, 4), (-3, -2), mode="circular"))
err("pad_constant_neg", lambda: F.pad(torch.randn(2, 4), (-5, 0)))
err("interp_both", lambda: F.interpolate(x4, size=(2, 2), scale_factor=2.0))
err("interp_none", lambda: F.interpolate(x4))
err("interp_ac_nearest", lambda: F.interpolate(x4, scale_factor=2.0, align_corners=True))
err("interp_size_len", lambda: F.interpolate(x4, size=[6, 6, 6]))
err("interp_bilinear_3d", lambda: F.interpolate(torch.randn(1, 2, 3), scale_factor=2.0, mode="bilinear"))
err("interp_zero", lambda: F.interpolate(x4, scale_factor=0.1))
err("pixel_shuffle_div", lambda: F.pixel_shuffle(torch.randn(1, 6, 2, 2), 2))
err("pixel_shuffle_dims", lambda: F.pixel_shuffle(torch.randn(4, 2), 2))
err("pixel_unshuffle_h", lambda: F.pixel_unshuffle(torch.randn(1, 1, 3, 4), 2))
err("one_hot_big", lambda: F.one_hot(torch.tensor([1, 5]), 5))
err("one_hot_neg", lambda: F.one_hot(torch.tensor([1, -1]), 5))
err("one_hot_dtype", lambda: F.one_hot(torch.tensor([1.0]), 5))
err("dropout1d_dims", lambda: F.dropout1d(torch.randn(2, 3, 4, 5), 0.5))
err("dropout_p", lambda: F.dropout2d(torch.randn(2, 3, 4, 5), 1.5))
err("embedding_padding_idx", lambda: nn.Embedding(6, 3, padding_idx=6))
err("embedding_index", lambda: F.embedding(torch.tensor([6]), torch.randn(6, 3)))
err("bag_mode", lambda: F.embedding_bag(torch.tensor([[1]]), torch.randn(6, 3), mode="min"))
err("bag_psw_mean", lambda: F.embedding_bag(torch.tensor([[1]]), torch.randn(6, 3), per_sample_weights=torch.ones(1, 1)))
err("bag_no_offsets", lambda: F.embedding_bag(torch.tensor([1]), torch.randn(6, 3)))
err("bag_3d", lambda: F.embedding_bag(torch.tensor([[[1]]]), torch.randn(6, 3)))
err("from_pretrained_dims", lambda: nn.Embedding.from_pretrained(torch.randn(6)))

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "layers_shape.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print("wrote", path)
