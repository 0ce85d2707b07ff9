"""Generates the Python-written safetensors files of tests/serialization_safetensors.rs.

Run with PyTorch 2.15 (CPU) and safetensors 0.8:

    python tests/data/gen_safetensors.py

It writes tests/data/safetensors/*.safetensors with `safetensors.torch.save_file` and
tests/data/safetensors/mixed.json, the tensors' values and `load_file`'s key order, so the tests
never need Python:

- mixed.safetensors: float32, float64, int64 and bool tensors, 0-d and empty ones, names that
  need JSON escapes, with metadata={"format": "pt"} (what Flambeau writes; the test checks that
  Flambeau writes these exact bytes from the same tensors);
- mixed_nometa.safetensors: the same without metadata (what `save_file(sd, path)` writes);
- float16.safetensors: a float16 tensor (a dtype Flambeau refuses, by name).
"""

import json
import os

import torch
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "safetensors")


def T(t):
    t = t.contiguous()
    return {
        "dtype": str(t.dtype).replace("torch.", ""),
        "shape": list(t.shape),
        "values": t.reshape(-1).tolist(),
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    tensors = {
        "layer.weight": (torch.arange(6, dtype=torch.float32).reshape(2, 3) - 2.5) / 3,
        "layer.bias": torch.tensor([1e-30, -0.0, 3.4e38], dtype=torch.float32),
        "scale": torch.tensor(0.1, dtype=torch.float64),
        "steps": torch.tensor([7, -1, 2**62], dtype=torch.int64),
        "count": torch.tensor(3, dtype=torch.int64),
        "mask": torch.tensor([[True, False], [False, True]]),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
        "empty_i64": torch.zeros(2, 0, dtype=torch.int64),
        'quote"back\\slash\nnew\u00e9\u0001': torch.tensor([2.0], dtype=torch.float64),
    }
    save_file(tensors, os.path.join(OUT, "mixed.safetensors"), metadata={"format": "pt"})
    save_file(tensors, os.path.join(OUT, "mixed_nometa.safetensors"))
    save_file(
        {"ok": torch.ones(2), "half": torch.ones(3, dtype=torch.float16)},
        os.path.join(OUT, "float16.safetensors"),
    )
    loaded = load_file(os.path.join(OUT, "mixed.safetensors"))
    for k, v in tensors.items():
        assert torch.equal(loaded[k], v) and loaded[k].dtype == v.dtype, k
    doc = {
        "torch_version": torch.__version__,
        # The order safetensors.torch.load_file returns the keys in.
        "load_file_keys": list(loaded.keys()),
        # The order the tensors were given to save_file in (the dict Flambeau writes).
        "tensors": [[k, T(v)] for k, v in tensors.items()],
    }
    with open(os.path.join(OUT, "mixed.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
