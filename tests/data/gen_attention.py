"""Generates the PyTorch reference values of tests/layers_attention.rs.

Run with PyTorch 2.15 (CPU):

    python tests/data/gen_attention.py

It writes tests/data/attention_reference.json, which the tests read with include_str!, so the
tests never need torch. Inputs are stored (float32 draws, exact in float64); modules are built in
float32 right after torch.manual_seed(seed), as Flambeau builds them after manual_seed(seed), and
their state_dict is stored too (so init is checked bit for bit), then converted with .double()
unless the case says float32. Outputs and gradients are of sum(out * g) with the stored g.
"""

import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
torch.set_num_threads(1)


def T(t):
    t = t.detach().contiguous()
    if t.dtype == torch.bool:
        vals = t.reshape(-1).tolist()
    else:
        # JSON has no infinities: -inf (masks) is written as the string "-inf".
        vals = [x if math.isfinite(x) else str(x) for x in t.double().reshape(-1).tolist()]
    return {"shape": list(t.shape), "values": vals}


def rand(*shape, dtype=torch.float64):
    return torch.randn(*shape).to(dtype)


cases = {}


def grads_of(out, g, tensors):
    gs = torch.autograd.grad((out * g).sum(), list(tensors.values()), allow_unused=True)
    return {
        k: T(v if v is not None else torch.zeros_like(tensors[k]))
        for k, v in zip(tensors, gs)
    }


# --- SDPA -------------------------------------------------------------------------------------
torch.manual_seed(100)
q, k, v = rand(2, 3, 4), rand(2, 5, 4), rand(2, 5, 3)
mask = torch.ones(3, 5, dtype=torch.bool)
mask[1] = False  # a row that attends to nothing: zeros, not NaN
mask[2, 0] = False
g = rand(2, 3, 3)
ins = {n: t.clone().requires_grad_() for n, t in dict(q=q, k=k, v=v).items()}
out = F.scaled_dot_product_attention(ins["q"], ins["k"], ins["v"], attn_mask=mask)
cases["sdpa_bool_mask_full_row"] = dict(
    inputs={n: T(t) for n, t in dict(q=q, k=k, v=v, mask=mask, g=g).items()},
    output=T(out),
    grads=grads_of(out, g, ins),
)

torch.manual_seed(101)
q, k, v = rand(1, 2, 3, 4), rand(1, 2, 5, 4), rand(1, 2, 5, 4)
g = rand(1, 2, 3, 4)
ins = {n: t.clone().requires_grad_() for n, t in dict(q=q, k=k, v=v).items()}
out = F.scaled_dot_product_attention(ins["q"], ins["k"], ins["v"], is_causal=True, scale=0.3)
cases["sdpa_causal_rect_scale"] = dict(
    inputs={n: T(t) for n, t in dict(q=q, k=k, v=v, g=g).items()},
    output=T(out),
    grads=grads_of(out, g, ins),
)

torch.manual_seed(102)
q, k, v = rand(2, 2, 3, 4), rand(2, 2, 5, 4), rand(2, 2, 5, 4)
fmask = rand(2, 1, 3, 5)
out = F.scaled_dot_product_attention(q, k, v, attn_mask=fmask, scale=-0.5)
cases["sdpa_float_mask_broadcast_neg_scale"] = dict(
    inputs={n: T(t) for n, t in dict(q=q, k=k, v=v, mask=fmask).items()},
    output=T(out),
)

torch.manual_seed(103)
q, k, v = rand(2, 2, 3, 4, dtype=torch.float32), rand(2, 2, 5, 4, dtype=torch.float32), rand(2, 2, 5, 4, dtype=torch.float32)
torch.manual_seed(7)
out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)
cases["sdpa_dropout_f32"] = dict(
    inputs={n: T(t) for n, t in dict(q=q, k=k, v=v).items()},
    output=T(out),
)


# --- MultiheadAttention -----------------------------------------------------------------------
def module_case(seed, ctor, double=True):
    torch.manual_seed(seed)
    m = ctor()
    sd = {k: T(v) for k, v in m.state_dict().items()}
    keys = list(m.state_dict().keys())
    if double:
        m = m.double()
    return m, dict(seed=seed, keys=keys, state_dict=sd)


m, c = module_case(11, lambda: nn.MultiheadAttention(6, 3))
torch.manual_seed(111)
x = rand(4, 2, 6)
am = torch.triu(torch.ones(4, 4, dtype=torch.bool), diagonal=1)
kpm = torch.tensor([[False, False, False, True], [False, False, False, False]])
g = rand(4, 2, 6)
xr = x.clone().requires_grad_()
out, w = m(xr, xr, xr, key_padding_mask=kpm, attn_mask=am, average_attn_weights=False)
c.update(
    inputs={n: T(t) for n, t in dict(x=x, attn_mask=am, kpm=kpm, g=g).items()},
    output=T(out),
    weights=T(w),
    grads=grads_of(out, g, dict(x=xr, in_proj_weight=m.in_proj_weight)),
)
cases["mha_self_masks_per_head"] = c

m, c = module_case(
    12,
    lambda: nn.MultiheadAttention(6, 2, kdim=4, vdim=5, add_bias_kv=True, add_zero_attn=True),
)
torch.manual_seed(112)
q, k, v = rand(3, 2, 6), rand(5, 2, 4), rand(5, 2, 5)
am = rand(4, 3, 5)
out, w = m(q, k, v, attn_mask=am)
c.update(
    inputs={n: T(t) for n, t in dict(q=q, k=k, v=v, attn_mask=am).items()},
    output=T(out),
    weights=T(w),
)
cases["mha_kdim_vdim_bias_kv_zero_attn"] = c

m, c = module_case(13, lambda: nn.MultiheadAttention(4, 2, batch_first=True))
torch.manual_seed(113)
x = rand(3, 4)
kpm = torch.tensor([0.0, -2.0, 0.0], dtype=torch.float64)
out, _ = m(x, x, x, key_padding_mask=kpm, need_weights=False)
c.update(inputs={n: T(t) for n, t in dict(x=x, kpm=kpm).items()}, output=T(out))
cases["mha_unbatched_float_kpm"] = c

m, c = module_case(14, lambda: nn.MultiheadAttention(4, 2, dropout=0.5), double=False)
torch.manual_seed(114)
x = rand(3, 2, 4, dtype=torch.float32)
torch.manual_seed(15)
out_w, w = m(x, x, x)
torch.manual_seed(16)
out_sdpa, _ = m(x, x, x, need_weights=False)
c.update(inputs=dict(x=T(x)), output=T(out_w), weights=T(w), output_sdpa=T(out_sdpa))
cases["mha_dropout_train_f32"] = c


# --- Transformer layers -----------------------------------------------------------------------
m, c = module_case(
    21,
    lambda: nn.TransformerEncoderLayer(6, 2, 12, dropout=0.0, activation="gelu", norm_first=True),
)
torch.manual_seed(121)
x = rand(3, 2, 6)
kpm = torch.tensor([[False, False, True], [False, False, False]])
sm = rand(3, 3)
g = rand(3, 2, 6)
xr = x.clone().requires_grad_()
out = m(xr, src_mask=sm, src_key_padding_mask=kpm)
c.update(
    inputs={n: T(t) for n, t in dict(x=x, kpm=kpm, src_mask=sm, g=g).items()},
    output=T(out),
    grads=grads_of(out, g, dict(x=xr)),
)
cases["encoder_layer_norm_first_gelu"] = c

m, c = module_case(22, lambda: nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, bias=False))
torch.manual_seed(122)
x = rand(3, 2, 4)
out = m(x)
c.update(inputs=dict(x=T(x)), output=T(out))
cases["encoder_layer_bias_false"] = c

m, c = module_case(
    31,
    lambda: nn.TransformerDecoderLayer(6, 2, 12, dropout=0.0, norm_first=True, batch_first=True),
)
torch.manual_seed(131)
tgt, mem = rand(2, 3, 6), rand(2, 4, 6)
tm = nn.Transformer.generate_square_subsequent_mask(3, dtype=torch.float64)
mkpm = torch.tensor([[False, True, False, False], [False, False, False, True]])
out = m(tgt, mem, tgt_mask=tm, memory_key_padding_mask=mkpm)
c.update(
    inputs={n: T(t) for n, t in dict(tgt=tgt, memory=mem, tgt_mask=tm, mkpm=mkpm).items()},
    output=T(out),
)
cases["decoder_layer_norm_first"] = c


def make_encoder():
    layer = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, batch_first=True)
    return nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(4))


m, c = module_case(51, make_encoder)
torch.manual_seed(151)
x = rand(2, 3, 4)
mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=torch.float64)
out = m(x, mask=mask)
c.update(inputs={n: T(t) for n, t in dict(x=x, mask=mask).items()}, output=T(out))
cases["encoder_stack_causal"] = c

m, c = module_case(
    41,
    lambda: nn.Transformer(
        d_model=4, nhead=2, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=8, dropout=0.0
    ),
)
torch.manual_seed(141)
src, tgt = rand(5, 2, 4), rand(3, 2, 4)
tm = nn.Transformer.generate_square_subsequent_mask(3, dtype=torch.float64)
skpm = torch.tensor([[False] * 5, [False, False, False, True, True]])
g = rand(3, 2, 4)
sr = src.clone().requires_grad_()
out = m(sr, tgt, tgt_mask=tm, src_key_padding_mask=skpm, memory_key_padding_mask=skpm)
c.update(
    inputs={n: T(t) for n, t in dict(src=src, tgt=tgt, tgt_mask=tm, skpm=skpm, g=g).items()},
    output=T(out),
    grads=grads_of(out, g, dict(src=sr)),
)
cases["transformer_small"] = c

m, c = module_case(61, lambda: nn.TransformerEncoderLayer(4, 2, 8, dropout=0.3), double=False)
torch.manual_seed(161)
x = rand(3, 2, 4, dtype=torch.float32)
torch.manual_seed(62)
out = m(x)
c.update(inputs=dict(x=T(x)), output=T(out))
cases["encoder_layer_dropout_train_f32"] = c


# --- reprs, keys, errors ----------------------------------------------------------------------
reprs = {
    "mha": str(nn.MultiheadAttention(8, 2)),
    "mha_separate_no_bias": str(nn.MultiheadAttention(6, 2, kdim=4, vdim=5, add_bias_kv=True, bias=False)),
    "encoder_layer": str(nn.TransformerEncoderLayer(8, 2, 16)),
    "encoder_layer_bias_false": str(nn.TransformerEncoderLayer(8, 2, 16, bias=False)),
    "decoder_layer": str(nn.TransformerDecoderLayer(8, 2, 16, dropout=0.2)),
    "encoder": str(nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2, nn.LayerNorm(8))),
    "transformer": str(nn.Transformer(8, 2, 2, 1, 16)),
}
keys = {
    "mha_separate": list(nn.MultiheadAttention(6, 2, kdim=4, vdim=5, add_bias_kv=True).state_dict()),
    "encoder": list(nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2, nn.LayerNorm(8)).state_dict()),
    "decoder": list(nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16), 2).state_dict()),
    "transformer": list(nn.Transformer(8, 2, 2, 1, 16).state_dict()),
}


def err(f):
    try:
        f()
    except Exception as e:  # noqa: BLE001
        return str(e)
    raise AssertionError("no error")


q4 = torch.randn(1, 2, 3, 4)
k4 = torch.randn(1, 2, 5, 4)
mha = nn.MultiheadAttention(4, 2)
x3 = torch.randn(3, 2, 4)
errors = {
    "divisible": err(lambda: nn.MultiheadAttention(6, 4)),
    "zero_heads": err(lambda: nn.MultiheadAttention(6, 0)),
    "sdpa_mask_and_causal": err(
        lambda: F.scaled_dot_product_attention(q4, k4, k4, attn_mask=torch.ones(3, 5, dtype=torch.bool), is_causal=True)
    ),
    "sdpa_dtypes": err(lambda: F.scaled_dot_product_attention(q4, k4.double(), k4)),
    "sdpa_mask_dtype": err(
        lambda: F.scaled_dot_product_attention(q4, k4, k4, attn_mask=torch.ones(3, 5, dtype=torch.long))
    ),
    "sdpa_dims": err(lambda: F.scaled_dot_product_attention(q4[0, 0, 0], k4, k4)),
    "mha_causal_needs_mask": err(lambda: mha(x3, x3, x3, is_causal=True)),
    "mha_mask_shape": err(lambda: mha(x3, x3, x3, attn_mask=torch.zeros(3, 4))),
    "mha_mask_3d_shape": err(lambda: mha(x3, x3, x3, attn_mask=torch.zeros(2, 3, 3))),
    "mha_query_dims": err(lambda: mha(x3[0, 0], x3[0, 0], x3[0, 0])),
    "mha_kpm_dims": err(lambda: mha(x3, x3, x3, key_padding_mask=torch.zeros(2, 3, 1, dtype=torch.bool))),
    "mha_embed_dim": err(lambda: mha(torch.randn(3, 2, 5), x3, x3)),
    "activation": err(lambda: nn.TransformerEncoderLayer(4, 2, activation="tanh")),
    "batch_number": err(lambda: nn.Transformer(4, 2, 1, 1, 8)(torch.randn(3, 2, 4), torch.randn(3, 1, 4))),
    "feature_number": err(lambda: nn.Transformer(4, 2, 1, 1, 8)(torch.randn(3, 2, 4), torch.randn(3, 2, 5))),
}

with open(os.path.join(HERE, "attention_reference.json"), "w") as f:
    json.dump(
        dict(torch_version=torch.__version__, cases=cases, reprs=reprs, keys=keys, errors=errors),
        f,
        separators=(",", ":"),
    )
    f.write("\n")
print("wrote", len(cases), "cases")
