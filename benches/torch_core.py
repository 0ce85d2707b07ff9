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
