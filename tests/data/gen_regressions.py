"""Generates the PyTorch reference values of tests/numerics_bits.rs.

Run with PyTorch 2.15 (CPU):

    python tests/data/gen_regressions.py

It writes tests/data/var_std_bits.json and tests/data/loss_bits.json, which the tests read with
include_str!, so the tests never need torch. Inputs are not stored: every case draws them with
torch.manual_seed(seed) then torch.randn / torch.randint / torch.rand, which Flambeau's own
generator reproduces bit for bit (Generator::manual_seed + Tensor::randn_gen etc., in the same
order). Only the first and last few input values are stored (as f32 bit patterns), so that a
divergence of the generator is reported as such rather than as a wrong reduction. Outputs and
gradients are stored as f32 bit patterns (u32).
"""

import json
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def bits(t):
    """f32 bit patterns of a float32 tensor, row-major."""
    t = t.detach().contiguous().reshape(-1)
    return t.view(torch.int32).to(torch.int64).bitwise_and(0xFFFFFFFF).tolist()


def sample(t):
    """First and last three elements' bits (all when there are fewer than six)."""
    b = bits(t)
    return b if len(b) <= 6 else b[:3] + b[-3:]


def var_std_cases():
    cases = []

    def add(seed, shape, dims, correction, keepdim, transpose=False):
        for op in ("var", "std"):
            torch.manual_seed(seed)
            x = torch.randn(*shape)
            if transpose:
                x = x.t()
            f = torch.var if op == "var" else torch.std
            if dims is None:
                out = f(x, correction=correction, keepdim=keepdim)
            else:
                out = f(x, dim=dims, correction=correction, keepdim=keepdim)
            cases.append(
                {
                    "op": op,
                    "seed": seed,
                    "shape": list(shape),
                    "transpose": transpose,
                    "dims": dims,
                    "correction": correction,
                    "keepdim": keepdim,
                    "input_sample": sample(x),
                    "out_shape": list(out.shape),
                    "out": bits(out),
                }
            )

    # Full reductions over 1, 7, 33, 1000 and 100000 elements, corrections 0, 1, 2.
    for n in (1, 7, 33, 1000, 100000):
        for c in (0, 1, 2):
            add(10 + n, [n], None, c, False)
    add(3, [7, 33], None, 1, True)
    # Reductions over dims, with and without keepdim.
    add(4, [7, 33], [1], 1, False)
    add(5, [7, 33], [0], 0, True)
    add(6, [7, 33], [1], 2, True)
    add(7, [33, 1000], [0], 1, False)
    add(8, [33, 1000], [1], 2, True)
    add(9, [33, 1000], [0, 1], 0, False)
    add(10, [1000, 100], [1], 1, False)
    add(11, [1000, 100], [0], 0, True)
    add(12, [1, 100000], [1], 1, False)
    add(13, [100000, 1], [0], 1, True)
    add(14, [7, 33, 5], [0, 2], 1, True)
    add(15, [7, 33, 5], [-1], 0, False)
    add(16, [1, 7], [0], 0, False)  # one element per output
    add(17, [1, 7], [0], 1, False)  # one element per output, correction 1: nan
    # A transposed (non-contiguous) input: randn(1000, 33).t() is 33 x 1000 with strides (1, 33).
    add(18, [1000, 33], [1], 1, False, transpose=True)
    add(19, [1000, 33], [0], 1, True, transpose=True)
    add(20, [1000, 33], None, 1, False, transpose=True)
    return cases


def scales(n):
    """Row i of the logits is multiplied by 2**(k_i) * m_i: magnitudes from 1/64 to 5120."""
    out = []
    for i in range(n):
        k = (i * 7) % 17 - 6
        m = (1.0, 3.0, 5.0, 0.1)[i % 4]
        out.append((2.0**k) * m)
    return torch.tensor(out, dtype=torch.float32)


def loss_cases():
    cases = []
    for n, c, seed, with_grad in ((300, 5, 100, True), (5000, 7, 101, False)):
        for weighted in (False, True):
            for ignore in (False, True):
                torch.manual_seed(seed)
                x = torch.randn(n, c)
                t = torch.randint(0, c, (n,))
                w = torch.rand(c) + 0.5
                logits = (x * scales(n)[:, None]).requires_grad_(True)
                if ignore:
                    t = t.clone()
                    t[5::13] = -100
                weight = w if weighted else None
                for fn_name in ("cross_entropy", "nll_loss"):
                    for reduction in ("mean", "sum"):
                        fn = getattr(torch.nn.functional, fn_name)
                        logits.grad = None
                        loss = fn(logits, t, weight=weight, reduction=reduction)
                        case = {
                            "fn": fn_name,
                            "n": n,
                            "c": c,
                            "seed": seed,
                            "weighted": weighted,
                            "ignore": ignore,
                            "reduction": reduction,
                            "x_sample": sample(x),
                            "target_sample": t[:6].tolist(),
                            "weight_bits": bits(w),
                            "logits_sample": sample(logits),
                            "loss": bits(loss)[0],
                        }
                        # Gradients: all four cross_entropy variants, and nll_loss's weighted and
                        # ignored one, of the 300-row mean case.
                        keep_grad = with_grad and reduction == "mean"
                        if fn_name == "nll_loss":
                            keep_grad = keep_grad and weighted and ignore
                        if keep_grad:
                            loss.backward()
                            case["grad"] = bits(logits.grad)
                        cases.append(case)
    return cases


def dump(name, obj):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    dump(
        "var_std_bits.json",
        {"generator": "tests/data/gen_regressions.py", "torch": torch.__version__, "cases": var_std_cases()},
    )
    dump(
        "loss_bits.json",
        {"generator": "tests/data/gen_regressions.py", "torch": torch.__version__, "cases": loss_cases()},
    )
