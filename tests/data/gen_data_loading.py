"""Writes tests/data/data_loading.json: PyTorch's numbers for tests/data_loading.rs.

Run with a PyTorch CPU install: python tests/data/gen_data_loading.py
Each entry records the call (`python`) beside its result.
"""

import json
import os

import torch
from torch.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    random_split,
)

out = {"torch_version": torch.__version__}


def gen(seed):
    return torch.Generator().manual_seed(seed)


# torch.multinomial, 1-d and 2-d, float64 and float32, with and without replacement.
mult = []
for seed, weights, n, repl, dtype in [
    (0, [0.1, 0.9, 0.4, 0.7, 3.0, 0.6], 5, True, "float64"),
    (0, [0.9, 0.4, 0.05, 0.2, 0.3, 0.1], 5, False, "float64"),
    (3, [1.0, 2.0, 3.0, 4.0], 1, True, "float64"),
    (3, [1.0, 2.0, 3.0, 4.0], 1, False, "float32"),
    (7, [0.25, 0.5, 0.125, 0.0, 2.0, 1.0, 0.75], 40, True, "float32"),
    (7, [0.25, 0.5, 0.125, 0.0, 2.0, 1.0, 0.75], 6, False, "float32"),
    (11, [[1.0, 2.0, 3.0], [3.0, 0.0, 1.0]], 2, False, "float64"),
    (11, [[1.0, 2.0, 3.0], [3.0, 0.0, 1.0]], 7, True, "float64"),
    (5, [1e-3, 1.0, 1e3, 5.0, 0.5] * 20, 60, False, "float64"),
    (5, [1e-3, 1.0, 1e3, 5.0, 0.5] * 20, 300, True, "float64"),
]:
    g = gen(seed)
    w = torch.tensor(weights, dtype=getattr(torch, dtype))
    r = torch.multinomial(w, n, repl, generator=g)
    after = torch.rand(2, generator=g).tolist()
    mult.append(
        {
            "python": f"torch.multinomial(torch.tensor({weights}, dtype=torch.{dtype}), {n}, {repl}, generator=torch.Generator().manual_seed({seed}))",
            "seed": seed,
            "weights": weights,
            "dtype": dtype,
            "num_samples": n,
            "replacement": repl,
            "indices": r.tolist(),
            "rand2_after": after,
        }
    )
torch.manual_seed(4)
r = torch.multinomial(torch.tensor([1.0, 3.0, 2.0], dtype=torch.float64), 8, True)
mult_default = {
    "python": "torch.manual_seed(4); torch.multinomial(torch.tensor([1., 3., 2.], dtype=torch.float64), 8, True)",
    "indices": r.tolist(),
}
out["multinomial"] = mult
out["multinomial_default"] = mult_default

# WeightedRandomSampler: two epochs.
wrs = []
for seed, weights, n, repl in [
    (0, [0.1, 0.9, 0.4, 0.7, 3.0, 0.6], 5, True),
    (0, [0.9, 0.4, 0.05, 0.2, 0.3, 0.1], 5, False),
    (2, [1, 1, 1, 10], 70, True),
]:
    s = WeightedRandomSampler(weights, n, replacement=repl, generator=gen(seed))
    wrs.append(
        {
            "python": f"WeightedRandomSampler({weights}, {n}, replacement={repl}, generator=torch.Generator().manual_seed({seed})), two epochs",
            "seed": seed,
            "weights": weights,
            "num_samples": n,
            "replacement": repl,
            "epochs": [list(s), list(s)],
        }
    )
out["weighted_random_sampler"] = wrs

# RandomSampler: with replacement (chunks of 32), num_samples beyond and below n.
rs = []
for seed, n, repl, num in [
    (0, 10, True, None),
    (1, 7, True, 70),
    (2, 5, False, 12),
    (3, 9, False, 4),
    (4, 6, False, 6),
]:
    s = RandomSampler(range(n), replacement=repl, num_samples=num, generator=gen(seed))
    e1 = list(s)
    e2 = list(s)
    rs.append(
        {
            "python": f"RandomSampler(range({n}), replacement={repl}, num_samples={num}, generator=torch.Generator().manual_seed({seed})), two epochs",
            "seed": seed,
            "n": n,
            "replacement": repl,
            "num_samples": num,
            "epochs": [e1, e2],
            "len": len(s),
        }
    )
torch.manual_seed(9)
s = RandomSampler(range(8), replacement=True, num_samples=40)
e1, e2 = list(s), list(s)
rs_default = {
    "python": "torch.manual_seed(9); s = RandomSampler(range(8), replacement=True, num_samples=40); list(s); list(s); torch.rand(3)",
    "epochs": [e1, e2],
    "rand3_after": torch.rand(3).tolist(),
}
out["random_sampler"] = rs
out["random_sampler_default"] = rs_default

# SubsetRandomSampler.
s = SubsetRandomSampler([3, 14, 15, 92, 65, 35], generator=gen(5))
out["subset_random_sampler"] = {
    "python": "SubsetRandomSampler([3, 14, 15, 92, 65, 35], generator=torch.Generator().manual_seed(5)), two epochs",
    "indices": [3, 14, 15, 92, 65, 35],
    "seed": 5,
    "epochs": [list(s), list(s)],
}
torch.manual_seed(6)
s = SubsetRandomSampler([1, 2, 3, 4, 5, 6, 7])
e1 = list(s)
out["subset_random_sampler_default"] = {
    "python": "torch.manual_seed(6); list(SubsetRandomSampler([1, 2, 3, 4, 5, 6, 7])); torch.rand(2)",
    "epoch": e1,
    "rand2_after": torch.rand(2).tolist(),
}

# random_split with fractions and remainders.
splits = []
for n, lengths, seed in [
    (11, [0.3, 0.3, 0.4], 0),
    (10, [0.5, 0.5], 1),
    (7, [0.1, 0.9], 2),
    (13, [0.25, 0.25, 0.25, 0.25], 3),
    (5, [1, 4], 4),
    (3, [0.1, 0.1, 0.8], 5),
]:
    parts = random_split(range(n), lengths, generator=gen(seed))
    splits.append(
        {
            "python": f"random_split(range({n}), {lengths}, generator=torch.Generator().manual_seed({seed}))",
            "n": n,
            "lengths": lengths,
            "seed": seed,
            "sizes": [len(p) for p in parts],
            "indices": [list(p.indices) for p in parts],
        }
    )
torch.manual_seed(8)
parts = random_split(range(9), [4, 5])
out["random_split"] = splits
out["random_split_default"] = {
    "python": "torch.manual_seed(8); random_split(range(9), [4, 5])",
    "indices": [list(p.indices) for p in parts],
}

# BatchSampler.
bs = []
for n, b, drop in [(10, 3, False), (10, 3, True), (9, 3, True), (9, 3, False), (2, 5, False), (2, 5, True)]:
    s = BatchSampler(SequentialSampler(range(n)), b, drop)
    bs.append({"n": n, "batch_size": b, "drop_last": drop, "batches": list(s), "len": len(s)})
out["batch_sampler"] = bs

# ConcatDataset.
c = ConcatDataset([list(range(0, 3)), list(range(10, 12)), [], list(range(20, 24))])
out["concat"] = {
    "python": "ConcatDataset([range(0, 3), range(10, 12), [], range(20, 24)])",
    "parts": [[0, 1, 2], [10, 11], [], [20, 21, 22, 23]],
    "cumulative_sizes": c.cumulative_sizes,
    "items": [c[i] for i in range(len(c))],
    "negative_items": [c[-i] for i in range(1, len(c) + 1)],
}

# DataLoader options beyond data.json.
loaders = []
ds = TensorDataset(torch.arange(20))


def batches(loader):
    return [b[0].tolist() for b in loader]


torch.manual_seed(10)
l = DataLoader(ds, batch_size=3, sampler=WeightedRandomSampler([1.0] * 10 + [5.0] * 10, 13))
loaders.append(
    {
        "python": "torch.manual_seed(10); DataLoader(TensorDataset(torch.arange(20)), batch_size=3, sampler=WeightedRandomSampler([1.0] * 10 + [5.0] * 10, 13)) iterated twice; torch.rand(3)",
        "name": "weighted_sampler_default",
        "epochs": [batches(l), batches(l)],
        "len": len(l),
        "rand3_after": torch.rand(3).tolist(),
    }
)
torch.manual_seed(11)
l = DataLoader(ds, batch_sampler=BatchSampler(RandomSampler(ds), 6, True))
loaders.append(
    {
        "python": "torch.manual_seed(11); DataLoader(TensorDataset(torch.arange(20)), batch_sampler=BatchSampler(RandomSampler(ds), 6, True)) iterated twice; torch.rand(3)",
        "name": "batch_sampler_default",
        "epochs": [batches(l), batches(l)],
        "len": len(l),
        "rand3_after": torch.rand(3).tolist(),
    }
)
# Stopping an epoch early: the sampler's second permutation (for num_samples % n) is never drawn.
g = gen(12)
l = DataLoader(ds, batch_size=5, shuffle=True, generator=g)
it = iter(l)
first = [next(it)[0].tolist(), next(it)[0].tolist()]
del it
second = batches(l)
loaders.append(
    {
        "python": "g = torch.Generator().manual_seed(12); l = DataLoader(TensorDataset(torch.arange(20)), batch_size=5, shuffle=True, generator=g); two batches of one epoch, then a whole epoch; torch.rand(3, generator=g)",
        "name": "early_stop_explicit",
        "epochs": [first, second],
        "len": len(l),
        "generator_rand3_after": torch.rand(3, generator=g).tolist(),
    }
)
out["loaders"] = loaders

# default_collate dtypes.
out["collate_dtypes"] = {
    "float": str(default_collate([1.5, 2.5]).dtype),
    "int": str(default_collate([1, 2]).dtype),
    "bool": str(default_collate([True, False]).dtype),
    "tuple": [str(t.dtype) for t in default_collate([(1.0, 2), (3.0, 4)])],
}

# An epoch's base seed: the first int64 draw of the loader's generator.
out["base_seed_21"] = torch.empty((), dtype=torch.int64).random_(generator=gen(21)).item()

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data_loading.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print("wrote", path)
