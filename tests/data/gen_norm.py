"""Writes the PyTorch values embedded in tests/layers_norm.rs (run with PyTorch 2.15 CPU).

Inputs are built from arange and sin so that the Rust tests rebuild them exactly.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def x_of(*shape, scale=1.0):
    n = 1
    for d in shape:
        n *= d
    return (torch.arange(n, dtype=torch.float64) * 0.7 + 0.3).sin().reshape(shape) * scale


def show(name, t):
    vals = ", ".join(repr(v) for v in t.flatten().tolist())
    print(f"{name}: [{vals}]")


# BatchNorm1d: two training passes (momentum 0.1), then eval.
m = nn.BatchNorm1d(3)
m(x_of(4, 3))
m(x_of(5, 3, 2, scale=2.0))
show("bn1d running_mean", m.running_mean)
show("bn1d running_var", m.running_var)
print("bn1d num_batches_tracked:", m.num_batches_tracked.item())
m.eval()
show("bn1d eval out", m(x_of(2, 3)))

# momentum=None: cumulative moving average over three passes.
m = nn.BatchNorm2d(2, momentum=None)
for k in range(3):
    m(x_of(2, 2, 2, 2, scale=k + 1.0))
show("bn2d cma running_mean", m.running_mean)
show("bn2d cma running_var", m.running_var)

# F.batch_norm on a 4-D input, momentum 0.3.
rm, rv = torch.zeros(3) + 0.5, torch.ones(3) * 2.0
F.batch_norm(x_of(2, 3, 2, 2), rm, rv, training=True, momentum=0.3, eps=1e-3)
show("F.batch_norm rm", rm)
show("F.batch_norm rv", rv)

# InstanceNorm1d tracking running stats: two training passes, then eval.
m = nn.InstanceNorm1d(2, track_running_stats=True, affine=True)
m(x_of(3, 2, 4))
m(x_of(2, 2, 5, scale=3.0))
show("in1d running_mean", m.running_mean)
show("in1d running_var", m.running_var)
m.eval()
show("in1d eval out", m(x_of(1, 2, 3)))

# RMSNorm with eps=None in float32: the default eps matters for small inputs.
x = x_of(2, 3, scale=1e-4).float()
show("rms f32 eps None", F.rms_norm(x, (3,)))
show("group_norm out", F.group_norm(x_of(2, 4, 3), 2, eps=1e-5))
