"""Generates the PyTorch reference values of tests/small_gemm.rs.

Run with PyTorch 2.15 (CPU):

    python tests/data/gen_small_gemm.py

It writes tests/data/small_gemm.json: small matrix products as `nn.Linear` and its backward
make them, each with its inputs and PyTorch's output stored exactly (little-endian bytes,
base64), so the test compares Flambeau's result bit for bit without
torch. Operands are made in the layouts PyTorch's autograd hands to the kernels (a weight's
transpose is a column-major view, grad_weight's `g.t()` too), since the BLAS path PyTorch takes,
and so the order it sums in, depends on the layout.

Ops (inputs named as in the JSON; `W` is contiguous (k, n), `w` is (n, k) as nn.Linear holds it):
- linear: F.linear(x, w, b)                       (addmm, bias broadcast, mat2 = w.t())
- addmm: torch.addmm(b, x, W)                     (addmm, both operands row-major)
- mm_wt: x @ w.t()                                (Linear without bias)
- mm: x @ W
- grad_input: g @ w                               (Linear's backward: (m, n) @ (n, k))
- grad_weight: g.t() @ x                          (Linear's backward: (n, m)ᵀ view @ (m, k))
- bmm: torch.matmul(a, c) with a (B, m, k), c (B, k, n)
- matmul_fold: torch.matmul(a, W) with a (B, m, k): folded into one (B*m, k) @ (k, n) mm

What the data shows (PyTorch 2.15, MKL 2024.2, on an AVX-512 CPU):
- bmm below 400 multiply-adds a matrix is ATen's own loop (baddbmm_cpu_kernel): each product
  rounded, added left to right from zero. That holds on any CPU; Flambeau's plain loop matches.
- mm/addmm/linear go to MKL's sgemm whatever the size, and MKL picks a kernel (and so a
  summation order) by shape, layout and CPU. On this machine, for products up to 256
  multiply-adds: fused multiply-adds in k order from zero then the bias added (most shapes);
  fused from the bias (k = 1, and single rows with a row-major right operand); 16-lane dot
  products summed by halves for narrow x @ w.t() (n = 2 or 3 with few rows, or m < n <= 11 with
  k <= n); other, unidentified orders for a single row or column of x @ w.t(). The fixtures'
  seed tutorial was written on another CPU, where the 1x11x1 weight gradient is the unfused sum,
  so no one order is PyTorch's for mm on every CPU.

Shapes: every op on random (m, k, n) with each in 1..12, on the edge cases m, n or k = 1, and
on products around 256 and 400 multiply-adds; the Linear(3, 2) of gen_optim_state.py.
"""

import base64
import json
import os
import random

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def packed(t):
    """Little-endian bytes of a tensor's values, row-major, in base64."""
    return base64.b64encode(t.detach().contiguous().reshape(-1).numpy().tobytes()).decode()


def case(op, dtype, m, k, n, batch=2):
    """One case: fresh standard-normal inputs, PyTorch's output."""
    r = lambda *s: torch.randn(*s, dtype=dtype)
    if op in ("linear", "mm_wt"):
        ins = {"x": r(m, k), "w": r(n, k)}
        if op == "linear":
            ins["b"] = r(n)
            out = F.linear(ins["x"], ins["w"], ins["b"])
        else:
            out = ins["x"] @ ins["w"].t()
    elif op in ("addmm", "mm"):
        ins = {"x": r(m, k), "W": r(k, n)}
        if op == "addmm":
            ins["b"] = r(n)
            out = torch.addmm(ins["b"], ins["x"], ins["W"])
        else:
            out = ins["x"] @ ins["W"]
    elif op == "grad_input":
        ins = {"g": r(m, n), "w": r(n, k)}
        out = ins["g"] @ ins["w"]
    elif op == "grad_weight":
        ins = {"g": r(m, n), "x": r(m, k)}
        out = ins["g"].t() @ ins["x"]
    elif op == "bmm":
        ins = {"a": r(batch, m, k), "c": r(batch, k, n)}
        out = torch.matmul(ins["a"], ins["c"])
    elif op == "matmul_fold":
        ins = {"a": r(batch, m, k), "W": r(k, n)}
        out = torch.matmul(ins["a"], ins["W"])
    else:
        raise ValueError(op)
    return {
        "op": op,
        "dtype": "float32" if dtype == torch.float32 else "float64",
        "m": m,
        "k": k,
        "n": n,
        "inputs": {name: {"shape": list(t.shape), "data": packed(t)} for name, t in ins.items()},
        "out": {"shape": list(out.shape), "data": packed(out)},
    }


OPS = ["linear", "addmm", "mm_wt", "mm", "grad_input", "grad_weight", "bmm", "matmul_fold"]


def shapes(rng, count, edges=True):
    """Random small shapes, the degenerate ones, and some around the 256 and 400 thresholds."""
    out = [(rng.randint(1, 12), rng.randint(1, 12), rng.randint(1, 12)) for _ in range(count)]
    out += [(1, rng.randint(1, 12), rng.randint(1, 12)) for _ in range(count // 6)]
    out += [(rng.randint(1, 12), rng.randint(1, 12), 1) for _ in range(count // 6)]
    out += [(rng.randint(1, 12), 1, rng.randint(1, 12)) for _ in range(count // 6)]
    if edges:
        out += [(4, 8, 8), (8, 8, 4), (16, 16, 1), (1, 16, 16), (7, 8, 7), (4, 10, 10)]
    return out


def main():
    torch.manual_seed(0)
    rng = random.Random(0)
    cases = []
    # The Linear(3, 2) of the optimizer-state tests, on its 4 rows, forward and backward.
    cases.append(case("linear", torch.float32, 4, 3, 2))
    cases.append(case("grad_input", torch.float32, 4, 3, 2))
    cases.append(case("grad_weight", torch.float32, 4, 3, 2))
    for op in OPS:
        for m, k, n in shapes(rng, 12):
            cases.append(case(op, torch.float32, m, k, n))
        for m, k, n in shapes(rng, 3, edges=False):
            cases.append(case(op, torch.float64, m, k, n))
    doc = {
        "generator": "tests/data/gen_small_gemm.py",
        "torch": torch.__version__,
        "blas": "mkl" if torch.backends.mkl.is_available() else "none",
        "cases": cases,
    }
    path = os.path.join(HERE, "small_gemm.json")
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    print(f"{len(cases)} cases, {os.path.getsize(path)} bytes -> {path}")


if __name__ == "__main__":
    main()
