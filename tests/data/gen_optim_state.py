"""Generates the PyTorch references of tests/optim_state.rs.

Run with PyTorch 2.15 (CPU) from the repository root:

    python tests/data/gen_optim_state.py

The model is Linear(3, 2) with the fixed weights below, trained on fixed data with MSELoss, so
Flambeau rebuilds every run exactly. It writes, under tests/data/optim_state/:

- layouts.json: for each optimizer configuration, its state_dict() after 2 steps, and for each
  scheduler, its state_dict() and the optimizer's param_groups after a few steps, encoded with
  `encode` (every value tagged with its Python type, dicts in insertion order, tensors with
  dtype, shape and values), so the tests compare Flambeau's state dicts key for key, type for
  type and value for value without reading pickles;
- adam.pt, sgd.pt: torch.save({'model', 'optimizer', 'scheduler', 'epoch'}) after 3 steps
  (Adam with OneCycleLR, SGD with Nesterov momentum and StepLR), and adam.json, sgd.json: the
  same checkpoint encoded, and the parameters and learning rates after each of 2 further
  steps, which Flambeau must reproduce after loading the checkpoint (from the JSON, and from
  the .pt file once Flambeau reads .pt files).
"""

import json
import math
import os

import torch
from torch.optim import lr_scheduler as L

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "optim_state")

WEIGHT = [[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]
BIAS = [0.05, -0.05]
X = [[1.0, 2.0, -1.0], [0.5, -1.5, 2.0], [-1.0, 0.0, 1.0], [2.0, 1.0, 0.5]]
Y = [[1.0, -1.0], [0.0, 2.0], [-0.5, 0.5], [1.5, 0.0]]


def model():
    m = torch.nn.Linear(3, 2)
    with torch.no_grad():
        m.weight.copy_(torch.tensor(WEIGHT))
        m.bias.copy_(torch.tensor(BIAS))
    return m


def train_step(m, opt):
    loss = torch.nn.functional.mse_loss(m(torch.tensor(X)), torch.tensor(Y))
    opt.zero_grad()
    loss.backward()
    opt.step()


def num(x):
    """A float as JSON holds it exactly (repr round-trips), infinities and NaN as strings."""
    if math.isfinite(x):
        return x
    return repr(x)


def encode(v):
    if v is None:
        return {"t": "none"}
    if isinstance(v, bool):
        return {"t": "bool", "v": v}
    if isinstance(v, int):
        return {"t": "int", "v": v}
    if isinstance(v, float):
        return {"t": "float", "v": num(v)}
    if isinstance(v, str):
        return {"t": "str", "v": v}
    if isinstance(v, tuple):
        return {"t": "tuple", "v": [encode(x) for x in v]}
    if isinstance(v, list):
        return {"t": "list", "v": [encode(x) for x in v]}
    if isinstance(v, dict):  # dict, OrderedDict and Counter alike
        return {"t": "dict", "v": [[encode(k), encode(x)] for k, x in v.items()]}
    if isinstance(v, torch.Tensor):
        return {
            "t": "tensor",
            "dtype": str(v.dtype).replace("torch.", ""),
            "shape": list(v.shape),
            "v": [num(x) for x in v.detach().reshape(-1).tolist()],
        }
    raise TypeError(type(v))


OPTIMIZERS = {
    "sgd": lambda p: torch.optim.SGD(p, lr=0.1),
    "sgd_momentum": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
    "sgd_nesterov": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "adam": lambda p: torch.optim.Adam(p, lr=0.01),
    "adamw_amsgrad": lambda p: torch.optim.AdamW(p, lr=0.01, amsgrad=True),
    "rmsprop": lambda p: torch.optim.RMSprop(p, lr=0.01),
    "rmsprop_centered": lambda p: torch.optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
    "adagrad": lambda p: torch.optim.Adagrad(p, lr=0.1),
}

# name: (optimizer, scheduler, steps); ReduceLROnPlateau is stepped with PLATEAU_METRICS.
SCHEDULERS = {
    "step_lr": ("sgd_momentum", lambda o: L.StepLR(o, 2, 0.5), 3),
    "multi_step_lr": ("sgd_momentum", lambda o: L.MultiStepLR(o, [2, 4, 4], 0.5), 5),
    "exponential_lr": ("adam", lambda o: L.ExponentialLR(o, 0.9), 3),
    "cosine_annealing_lr": ("adam", lambda o: L.CosineAnnealingLR(o, 10), 4),
    "linear_lr": ("sgd", lambda o: L.LinearLR(o), 3),
    "lambda_lr": ("sgd", lambda o: L.LambdaLR(o, lambda e: 0.5**e), 3),
    "one_cycle_lr_sgd": ("sgd_momentum", lambda o: L.OneCycleLR(o, 1.0, total_steps=10), 4),
    "one_cycle_lr_adam": (
        "adam",
        lambda o: L.OneCycleLR(o, 0.1, total_steps=12, three_phase=True, anneal_strategy="linear"),
        5,
    ),
    "reduce_lr_on_plateau": ("sgd_momentum", lambda o: L.ReduceLROnPlateau(o, patience=1), 5),
}
PLATEAU_METRICS = [1.0, 0.9, 0.95, 0.95, 0.95]


def layouts():
    out = {"optimizers": {}, "schedulers": {}}
    for name, make in OPTIMIZERS.items():
        m = model()
        opt = make(m.parameters())
        for _ in range(2):
            train_step(m, opt)
        out["optimizers"][name] = encode(opt.state_dict())
    for name, (opt_name, make, steps) in SCHEDULERS.items():
        m = model()
        opt = OPTIMIZERS[opt_name](m.parameters())
        sched = make(opt)
        for i in range(steps):
            train_step(m, opt)
            if isinstance(sched, L.ReduceLROnPlateau):
                sched.step(PLATEAU_METRICS[i])
            else:
                sched.step()
        out["schedulers"][name] = {
            "optimizer": opt_name,
            "steps": steps,
            "scheduler": encode(sched.state_dict()),
            "param_groups": encode(opt.state_dict()["param_groups"]),
        }
    return out


def checkpoint(name, make_opt, make_sched):
    m = model()
    opt = make_opt(m.parameters())
    sched = make_sched(opt)
    for _ in range(3):
        train_step(m, opt)
        sched.step()
    ckpt = {
        "model": m.state_dict(),
        "optimizer": opt.state_dict(),
        "scheduler": sched.state_dict(),
        "epoch": 3,
    }
    torch.save(ckpt, os.path.join(OUT, name + ".pt"))
    encoded = encode(ckpt)
    after = []
    for _ in range(2):
        train_step(m, opt)
        sched.step()
        after.append(
            {
                "weight": [num(x) for x in m.weight.detach().reshape(-1).tolist()],
                "bias": [num(x) for x in m.bias.detach().tolist()],
                "lrs": [g["lr"] for g in opt.param_groups],
            }
        )
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump({"torch": torch.__version__, "checkpoint": encoded, "steps": after}, f, indent=1)


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "layouts.json"), "w") as f:
        json.dump({"torch": torch.__version__, **layouts()}, f, indent=1)
    checkpoint(
        "adam",
        lambda p: torch.optim.Adam(p, lr=0.01),
        lambda o: L.OneCycleLR(o, 0.1, total_steps=10),
    )
    checkpoint(
        "sgd",
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
        lambda o: L.StepLR(o, 2, 0.5),
    )


if __name__ == "__main__":
    main()
