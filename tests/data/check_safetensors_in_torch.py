"""Checks by hand that safetensors files Flambeau wrote load in PyTorch.

    cargo test --test serialization_safetensors trained_models_saved_for_pytorch
    python tests/data/check_safetensors_in_torch.py target/tmp/safetensors-for-pytorch

For each interop model (tests/fixtures/torch/interop), takes the training step the Rust test
takes (load the fixture's safetensors, a train-mode forward on the fixture's input, `out.sum()`
backward, `SGD(lr=0.1).step()`) in PyTorch, then loads Flambeau's file into a fresh model with
`load_state_dict(strict=True)` and compares every tensor (dtype exact, values to float32
tolerance, `num_batches_tracked` exactly). Not run by the test suite (it needs torch).
"""

import json
import os
import sys

import torch
import torch.nn as nn
from safetensors.torch import load_file

HERE = os.path.dirname(os.path.abspath(__file__))
INTEROP = os.path.join(HERE, "..", "fixtures", "torch", "interop")


def fixture_tensor(j):
    dtype = getattr(torch, j["dtype"])
    return torch.tensor(j["values"], dtype=dtype).reshape(j["shape"])


def main(out_dir):
    torch.set_num_threads(1)
    with open(os.path.join(INTEROP, "interop.json")) as f:
        fx = json.load(f)
    for name, model in fx["models"].items():
        m = eval(model["module"])
        m.load_state_dict(load_file(os.path.join(INTEROP, name + ".safetensors")), strict=True)
        m.train()
        opt = torch.optim.SGD(m.parameters(), lr=0.1)
        m(fixture_tensor(model["input"])).sum().backward()
        opt.step()
        fresh = eval(model["module"])
        theirs = load_file(os.path.join(out_dir, name + ".safetensors"))
        fresh.load_state_dict(theirs, strict=True)
        for k, want in m.state_dict().items():
            got = fresh.state_dict()[k]
            assert got.dtype == want.dtype, (name, k, got.dtype, want.dtype)
            if want.dtype.is_floating_point:
                assert torch.allclose(got, want, rtol=1e-5, atol=1e-6), (name, k, got, want)
            else:
                assert torch.equal(got, want), (name, k, got, want)
        print(f"{name}: {len(theirs)} tensors loaded with strict=True, equal to PyTorch's step")


if __name__ == "__main__":
    main(sys.argv[1])
