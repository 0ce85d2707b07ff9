"""PyTorch side of benches/core.rs: the same workloads and timing rule, printed as JSON lines.

Run by benches/compare.sh; needs a Python with torch (never a dependency of the project).
"""
import json
import sys
import time

import torch

torch.set_num_threads(2)
quick = "quick" in sys.argv
reps = 5 if quick else 21


def timeit(reps, inner, f):
    for _ in range(max(inner, 3)):
        f()
    samples = []
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(inner):
            f()
        samples.append((time.perf_counter() - t) / inner)
    samples.sort()
    return samples[reps // 2]


def report(name, secs, **extra):
    print(json.dumps({"workload": name, "median_us": round(secs * 1e6, 4), **extra, "framework": "torch"}))


g = torch.Generator().manual_seed(0)
a = torch.randn(11, generator=g)
b = torch.randn(11, generator=g)
report("add_11", timeit(reps, 20000, lambda: a + b))

x = torch.randn(11, 1, generator=g)
y = torch.randn(11, 1, generator=g)
w = torch.randn(1, 1, generator=g).requires_grad_()
bias = torch.randn(1, generator=g).requires_grad_()


def step():
    loss = (x @ w + bias - y).pow(2).mean()
    w.grad = None
    bias.grad = None
    loss.backward()


report("linreg_fwd_bwd_11", timeit(reps, 5000, step))

from torch import nn

xs = (torch.randint(-5, 30, (11,), generator=g).float() * 0.1).unsqueeze(1)
ys = xs * 5 + 30 + torch.randn(11, 1, generator=g)
lin = nn.Linear(1, 1)
lf = nn.MSELoss()
sgd = torch.optim.SGD(lin.parameters(), lr=1e-2)


def linreg():
    for _ in range(1000):
        loss = lf(lin(xs), ys)
        sgd.zero_grad()
        loss.backward()
        sgd.step()


report("seed_linreg_1000_epochs", timeit(min(reps, 11), 1, linreg))

mlp = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
xb = torch.randn(128, 784, generator=g)
yb = torch.randint(0, 10, (128,), generator=g)
ce = nn.CrossEntropyLoss()
adam = torch.optim.Adam(mlp.parameters(), 1e-3)


def mlp_step():
    loss = ce(mlp(xb), yb)
    adam.zero_grad()
    loss.backward()
    adam.step()


report("mlp_784_512_256_10_b128_adam_step", timeit(reps, 3, mlp_step))
x1 = torch.randn(1, 784, generator=g)
with torch.no_grad():
    report("mlp_infer_b1", timeit(reps, 200, lambda: mlp(x1)))

for n in (256, 1024, 2048):
    A = torch.randn(n, n, generator=g)
    B = torch.randn(n, n, generator=g)
    r, inner = {256: (reps, 20), 1024: (min(reps, 7), 2), 2048: (min(reps, 5), 1)}[n]
    with torch.no_grad():
        t = timeit(r, inner, lambda: A @ B)
    report(f"sgemm_{n}", t, gflops=round(2 * n**3 / t / 1e9, 1))

# The layers of issue 7: one Conv2d forward+backward at each conv of the peers' CNN, a
# MultiheadAttention forward+backward at the transformer workload's shapes, an LSTM forward+backward,
# and the CNN and transformer training steps of ../shared/peers/torch_bench.py.
for name, (cin, cout, hw) in {"conv2d_1x32_28_fwd_bwd": (1, 32, 28), "conv2d_32x64_13_fwd_bwd": (32, 64, 13)}.items():
    conv = nn.Conv2d(cin, cout, 3)
    xi = torch.randn(64, cin, hw, hw, generator=g).requires_grad_(cin > 1)

    def conv_step(conv=conv, xi=xi):
        conv.zero_grad()
        xi.grad = None
        conv(xi).sum().backward()

    report(name, timeit(reps, 3, conv_step))

mha = nn.MultiheadAttention(128, 4, batch_first=True)
xa = torch.randn(32, 64, 128, generator=g).requires_grad_()


def mha_step():
    mha.zero_grad()
    xa.grad = None
    mha(xa, xa, xa, need_weights=False)[0].sum().backward()


report("mha_d128_h4_s64_b32_fwd_bwd", timeit(reps, 3, mha_step))

lstm = nn.LSTM(32, 64, batch_first=True)
xl = torch.randn(16, 35, 32, generator=g)


def lstm_step():
    lstm.zero_grad()
    lstm(xl)[0].pow(2).mean().backward()


report("lstm_i32_h64_s35_b16_fwd_bwd", timeit(reps, 3, lstm_step))

cnn = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10))
xc = torch.randn(64, 1, 28, 28, generator=g)
yc = torch.randint(0, 10, (64,), generator=g)
sgdm = torch.optim.SGD(cnn.parameters(), 1e-2, momentum=0.9)


def cnn_step():
    loss = ce(cnn(xc), yc)
    sgdm.zero_grad()
    loss.backward()
    sgdm.step()


report("cnn_b64_28x28_sgdm_step", timeit(reps, 1, cnn_step))

enc = nn.TransformerEncoderLayer(128, 4, 512, dropout=0.0, batch_first=True)
xt = torch.randn(32, 64, 128, generator=g)
adamw = torch.optim.AdamW(enc.parameters(), 1e-3)


def enc_step():
    loss = enc(xt).pow(2).mean()
    adamw.zero_grad()
    loss.backward()
    adamw.step()


report("transformer_layer_d128_s64_b32_adamw_step", timeit(reps, 1, enc_step))
