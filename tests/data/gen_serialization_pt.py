"""Writes the torch.save files tests/serialization_pt.rs reads, and what PyTorch says of them.

Run from the repository root with a PyTorch install: python tests/data/gen_serialization_pt.py

- pt/nested.pt: a training checkpoint with nested non-tensor values, a Parameter, a 0-d tensor,
  an empty tensor, views sharing a storage (one non-contiguous), int64 and bool tensors, bytes.
  pt/nested_p4.pt: the same object at pickle protocol 4 (FRAME, MEMOIZE, SHORT_BINUNICODE, ...).
- pt/malicious_*.pt: zip archives whose data.pkl calls code; torch.load(weights_only=True)
  refuses each, and pt/expected.json records its message.
- pt/expected.json: a structural description of nested.pt (every tensor's dtype, shape,
  stride, offset, values, requires_grad and which storage it shares) and the refusal messages.
"""

import io
import json
import os
import pickle
import zipfile
from collections import OrderedDict

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pt")
os.makedirs(OUT, exist_ok=True)


def nested_checkpoint():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    return {
        "model": model.state_dict(),
        "epoch": 3,
        "lr": 0.1,
        "names": ["a", "bé ✓"],
        "flag": True,
        "none": None,
        "pair": (1, 2.5),
        "big": 2**40,
        "neg": -70000,
        "huge_neg": -(2**63),
        "blob": b"\x00\xffab",
        "param": torch.nn.Parameter(torch.tensor([[0.5, -1.5]])),
        "scalar": torch.tensor(3.25),
        "empty": torch.zeros(0, 3),
        "base": base,
        "view_t": base.t()[1:],
        "row": base[2],
        "ints": torch.tensor([[1, -2], [3, 2**40]]),
        "mask": torch.tensor([True, False, True]),
        "f64": torch.tensor([1.0 / 3.0, -2.5], dtype=torch.float64),
        "deep": {"list": [{"x": 1}, [], ()], "t4": (1, 2, 3, 4)},
        "int_keys": {1: "one", 2: "two"},
    }


def describe(obj, storages):
    """A JSON tree of obj; tensors name their storage by order of first appearance."""
    if isinstance(obj, torch.Tensor):
        ptr = obj.untyped_storage().data_ptr()
        if ptr not in storages:
            storages[ptr] = len(storages)
        return {
            "type": "tensor",
            "dtype": str(obj.dtype),
            "shape": list(obj.shape),
            "stride": list(obj.stride()),
            "offset": obj.storage_offset(),
            "values": obj.detach().flatten().tolist(),
            "requires_grad": obj.requires_grad,
            "parameter": isinstance(obj, torch.nn.Parameter),
            "storage": storages[ptr],
        }
    if isinstance(obj, dict):
        return {
            "type": "dict",
            "items": [[describe(k, storages), describe(v, storages)] for k, v in obj.items()],
        }
    if isinstance(obj, (list, tuple)):
        return {"type": type(obj).__name__, "items": [describe(x, storages) for x in obj]}
    if obj is None:
        return {"type": "none"}
    if isinstance(obj, bool):
        return {"type": "bool", "value": obj}
    if isinstance(obj, int):
        return {"type": "int", "value": str(obj)}
    if isinstance(obj, float):
        return {"type": "float", "value": obj}
    if isinstance(obj, str):
        return {"type": "str", "value": obj}
    if isinstance(obj, bytes):
        return {"type": "bytes", "value": list(obj)}
    raise TypeError(type(obj))


def archive(name, pkl):
    """A zip laid out as torch.save's, holding the pickle pkl."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{name}/data.pkl", pkl)
        z.writestr(f"{name}/byteorder", "little")
        z.writestr(f"{name}/version", "3\n")
    return buf.getvalue()


class CallsSystem:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


MALICIOUS = {
    # GLOBAL os.system + REDUCE, as pickle writes any __reduce__ returning os.system.
    "os_system": pickle.dumps(CallsSystem(), protocol=2),
    # INST (protocol 0): builds builtins.eval('1') by name.
    "inst": b"(ibuiltins\neval\n.",
    # GLOBAL builtins.eval + REDUCE at protocol 2.
    "global_eval": b"\x80\x02cbuiltins\neval\nX\x01\x00\x00\x001\x85R.",
    # STACK_GLOBAL (protocol 4) of builtins.eval, called with REDUCE.
    "stack_global_eval": b"\x80\x04\x8c\x08builtins\x8c\x04eval\x93\x8c\x011\x85R.",
    # GLOBAL posix.system (what os.system pickles as on Linux with protocol 0).
    "posix_system": b"cposix\nsystem\n(S'echo pwned'\ntR.",
}


def rewrite(src, dst, edit, compression=zipfile.ZIP_STORED):
    """Copies the archive src to dst, each record passed through edit(name, data) (None drops it)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression) as zout:
        for info in zin.infolist():
            data = edit(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info.filename, data)


def corrupt_variants():
    """Well-formed archives whose content is wrong (the zip's CRCs are right): what must fail is
    the checkpoint's logic, not its container. Returns what torch.load says of each."""
    views = os.path.join(os.path.dirname(OUT), "..", "fixtures", "torch", "interop", "views.pt")

    def patch_pkl(old, new):
        def edit(name, data):
            if name.endswith("data.pkl"):
                if old not in data:
                    raise SystemExit(f"pattern {old!r} not in data.pkl")
                return data.replace(old, new, 1)
            return data

        return edit

    variants = {
        # row2's storage offset 12 -> 19: 19 + 6 elements overrun the 24-element storage.
        "offset_past_end": patch_pkl(b"K\x0cK\x06\x85", b"K\x13K\x06\x85"),
        # base's stride (6, 1) -> (600, 1).
        "stride_past_end": patch_pkl(b"K\x06K\x01\x86", b"MX\x02K\x01\x86"),
        # The first storage declares 2**31 - 1 elements instead of 24.
        "huge_numel": patch_pkl(b"K\x18t", b"J\xff\xff\xff\x7ft"),
        # A negative storage offset.
        "negative_offset": patch_pkl(b"QK\x00K\x04K\x06", b"QJ\xff\xff\xff\xffK\x04K\x06"),
        # The storage record is missing.
        "missing_storage": lambda name, data: None if name.endswith("data/0") else data,
        # The storage record is 4 bytes short.
        "short_storage": lambda name, data: data[:-4] if name.endswith("data/0") else data,
    }
    said = {}
    for name, edit in variants.items():
        path = os.path.join(OUT, f"corrupt_{name}.pt")
        rewrite(views, path, edit)
        try:
            torch.load(path, weights_only=True)
            said[name] = None
        except Exception as e:  # noqa: BLE001 - recording torch's words, whatever they are
            said[name] = f"{type(e).__name__}: {e}"
    # Deflated records (a zip tool re-compressed the file): torch reads them; Flambeau refuses.
    rewrite(views, os.path.join(OUT, "deflated.pt"), lambda n, d: d, zipfile.ZIP_DEFLATED)
    # byteorder "big": the storage bytes swapped; torch.load swaps them back.
    def big(name, data):
        if name.endswith("byteorder"):
            return b"big"
        if name.endswith("data/0"):
            return b"".join(data[i : i + 4][::-1] for i in range(0, len(data), 4))
        return data

    rewrite(views, os.path.join(OUT, "bigendian.pt"), big)
    be = torch.load(os.path.join(OUT, "bigendian.pt"), weights_only=True)
    assert torch.equal(be["base"], torch.arange(24.0).reshape(4, 6))
    # A dtype Flambeau does not hold.
    torch.save({"h": torch.zeros(2, dtype=torch.half)}, os.path.join(OUT, "half.pt"))
    return said


def main():
    ckpt = nested_checkpoint()
    torch.save(ckpt, os.path.join(OUT, "nested.pt"))
    torch.save(ckpt, os.path.join(OUT, "nested_p4.pt"), pickle_protocol=4)
    loaded = torch.load(os.path.join(OUT, "nested.pt"), weights_only=True)
    refusals = {}
    for name, pkl in MALICIOUS.items():
        path = os.path.join(OUT, f"malicious_{name}.pt")
        with open(path, "wb") as f:
            f.write(archive(f"malicious_{name}", pkl))
        try:
            torch.load(path, weights_only=True)
            raise SystemExit(f"{name} loaded")
        except pickle.UnpicklingError as e:
            refusals[name] = str(e)
    expected = {
        "torch_version": torch.__version__,
        "nested": describe(loaded, {}),
        "refusals": refusals,
        "corrupt": corrupt_variants(),
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
