"""Checks by hand that PyTorch resumes from the checkpoints Flambeau writes.

    FLAMBEAU_OPTIM_STATE_OUT=/some/dir cargo test --test optim_state checkpoints_for_pytorch
    python tests/data/check_optim_state_in_torch.py /some/dir

For every optimizer and scheduler of tests/optim_state/resume.rs, it builds PyTorch's
counterparts fresh (other constructor arguments than the run that saved, as the Rust test
does), loads model, optimizer and scheduler with torch.load(weights_only=True), takes the 5th
step and compares the parameters (within 1e-6; nearly all bit for bit) and learning rates
(exactly) with Flambeau's 5th step. The project's
tests never run it.
"""

import json
import os
import sys

import torch
from torch.optim import lr_scheduler as L

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_optim_state import train_step  # noqa: E402

OPTIMIZERS = ["sgd_momentum", "sgd_nesterov", "adam", "adamw_amsgrad", "rmsprop",
              "rmsprop_centered", "adagrad"]
SCHEDULERS = ["step_lr", "cosine_annealing_lr", "one_cycle_lr", "plateau"]
METRIC_5 = 0.95


def two_group(name, m, lr):
    """tests/optim_state/common.rs's two_group_optimizer."""
    blr = lr * 0.5
    w, b = [m.weight], [m.bias]
    if name.startswith("sgd"):
        return torch.optim.SGD([{"params": w}, {"params": b, "lr": blr, "weight_decay": 0.01}],
                               lr=lr, momentum=0.9, nesterov=name == "sgd_nesterov")
    if name == "adam":
        return torch.optim.Adam([{"params": w}, {"params": b, "lr": blr}], lr=lr)
    if name == "adamw_amsgrad":
        return torch.optim.AdamW([{"params": w}, {"params": b, "lr": blr}], lr=lr, amsgrad=True)
    if name.startswith("rmsprop"):
        return torch.optim.RMSprop([{"params": w}, {"params": b, "lr": blr}], lr=lr,
                                   momentum=0.5, centered=name == "rmsprop_centered")
    if name == "adagrad":
        return torch.optim.Adagrad([{"params": w}, {"params": b, "lr": blr, "lr_decay": 0.01}],
                                   lr=lr)
    raise ValueError(name)


def fresh_scheduler(name, opt, has_momentum):
    """tests/optim_state/resume.rs's make_sched(.., fresh=true)."""
    if name == "step_lr":
        return L.StepLR(opt, 5, 0.25)
    if name == "cosine_annealing_lr":
        return L.CosineAnnealingLR(opt, 20, 2e-4)
    if name == "one_cycle_lr":
        return L.OneCycleLR(opt, 0.1, total_steps=30, pct_start=0.5, three_phase=True,
                            cycle_momentum=has_momentum)
    if name == "plateau":
        return L.ReduceLROnPlateau(opt, patience=5, cooldown=0, factor=0.25)
    raise ValueError(name)


def main(d):
    failures = 0
    for o in OPTIMIZERS:
        for s in SCHEDULERS:
            base = os.path.join(d, f"{o}-{s}")
            ckpt = torch.load(base + ".pt", weights_only=True)
            m = torch.nn.Linear(3, 2)
            m.load_state_dict(ckpt["model"])
            opt = two_group(o, m, 0.5)
            sched = fresh_scheduler(s, opt, o != "adagrad")
            opt.load_state_dict(ckpt["optimizer"])
            sched.load_state_dict(ckpt["scheduler"])
            train_step(m, opt)
            if s == "plateau":
                sched.step(METRIC_5)
            else:
                sched.step()
            want = json.load(open(base + ".json"))
            got = torch.cat([m.weight.detach().reshape(-1), m.bias.detach()])
            exp = torch.tensor(want["weight"] + want["bias"], dtype=torch.float32)
            diff = (got - exp).abs().max().item()
            lrs = [g["lr"] for g in opt.param_groups]
            # Parameters within 1e-6 of their scale: Linear's forward can differ from PyTorch's
            # addmm in the last bit, which moves a gradient by an ulp; learning rates exactly.
            ok = diff <= 1e-6 * exp.abs().max().item() and lrs == want["lrs"]
            failures += not ok
            what = "bit for bit" if diff == 0 else f"max |diff| {diff:.3g}"
            print(f"{o:17} {s:20} {'same step' if ok else 'DIFFERENT'}, {what}, lrs {lrs == want['lrs']}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main(sys.argv[1])
