"""The Rust examples digits_mlp, digits_cnn, iris and diabetes, written in PyTorch: the same data
split, the same models, the same seed, PyTorch's DataLoader (whose shuffle order Flambeau's
DataLoader reproduces), the same per-epoch lines and the same final metric line, so that the two
can be compared run for run (losses per epoch, final metric, wall time).

    python examples/torch_twin.py digits_mlp [--epochs N] [--seed N] [--threads N] [--save PATH]

`--save model.safetensors` (needs the safetensors package) or `--save model.pt` writes the trained
state dict, which the Rust example evaluates with `--load PATH --eval-only`.

Not run by the tests: it needs PyTorch. The training time printed covers the epochs (training and
the per-epoch evaluation), as the Rust examples' `train time` line does.
"""
import argparse
import gzip
import os
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

DATASETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "datasets")


def read_rows(name, sep=",", skip_rows=0):
    path = os.path.join(DATASETS, name)
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt") as f:
        lines = f.read().splitlines()[skip_rows:]
    return [[float(v) for v in (line.split(sep) if sep else line.split())] for line in lines if line.strip()]


def digits(shape):
    rows = read_rows("digits.csv.gz")
    x = torch.tensor([r[:64] for r in rows]) / 16.0
    y = torch.tensor([int(r[64]) for r in rows])
    ntr = int(len(x) * 0.8)
    return x[:ntr].reshape(-1, *shape), y[:ntr], x[ntr:].reshape(-1, *shape), y[ntr:]


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def train(model, loader, opt, loss_fn, epochs, metric, metric_name, scheduler=None):
    t = time.perf_counter()
    for epoch in range(1, epochs + 1):
        total, batches = 0.0, 0
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
            batches += 1
        if scheduler is not None:
            scheduler.step()
        model.eval()
        m = metric(model)
        model.train()
        print(f"epoch {epoch:>3}/{epochs}  train loss {total / batches:.6f}  {metric_name} {m:.4f}")
    return m, time.perf_counter() - t


def save(model, path):
    if path is None:
        return
    if path.endswith(".safetensors"):
        from safetensors.torch import save_file
        save_file(model.state_dict(), path)
    else:
        torch.save(model.state_dict(), path)
    print(f"saved {path}")


def digits_mlp(args):
    torch.manual_seed(args.seed)
    xtr, ytr, xte, yte = digits((64,))
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    loader = DataLoader(TensorDataset(xtr, ytr), batch_size=32, shuffle=True)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    acc, dt = train(model, loader, opt, nn.CrossEntropyLoss(), args.epochs or 30,
                    lambda m: accuracy(m, xte, yte), "test accuracy")
    print(f"test accuracy: {acc:.4f}")
    print(f"train time: {dt:.2f}s")
    save(model, args.save)


def digits_cnn(args):
    torch.manual_seed(args.seed)
    xtr, ytr, xte, yte = digits((1, 8, 8))
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    loader = DataLoader(TensorDataset(xtr, ytr), batch_size=32, shuffle=True)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    acc, dt = train(model, loader, opt, nn.CrossEntropyLoss(), args.epochs or 30,
                    lambda m: accuracy(m, xte, yte), "test accuracy")
    print(f"test accuracy: {acc:.4f}")
    print(f"train time: {dt:.2f}s")
    save(model, args.save)


def iris(args):
    torch.manual_seed(args.seed)
    rows = read_rows("iris.csv", skip_rows=1)
    x = torch.tensor([r[:4] for r in rows])
    y = torch.tensor([int(r[4]) for r in rows])
    perm = torch.randperm(len(x))
    ntr = int(len(x) * 0.8)
    tr, te = perm[:ntr], perm[ntr:]
    mean, std = x[tr].mean(0), x[tr].std(0)
    x = (x - mean) / std
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    loader = DataLoader(TensorDataset(x[tr], y[tr]), batch_size=16, shuffle=True)
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    acc, dt = train(model, loader, opt, nn.CrossEntropyLoss(), args.epochs or 50,
                    lambda m: accuracy(m, x[te], y[te]), "test accuracy")
    print(f"test accuracy: {acc:.4f}")
    print(f"train time: {dt:.2f}s")
    save(model, args.save)


def diabetes(args):
    torch.manual_seed(args.seed)
    x = torch.tensor(read_rows("diabetes_data_raw.csv.gz", sep=None))
    y = torch.tensor([r[0] for r in read_rows("diabetes_target.csv.gz")])
    ntr = int(len(x) * 0.8)
    mean, std = x[:ntr].mean(0), x[:ntr].std(0)
    x = (x - mean) / std
    ymean, ystd = y[:ntr].mean(), y[:ntr].std()
    t = ((y - ymean) / ystd).unsqueeze(1)
    model = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 1))
    loader = DataLoader(TensorDataset(x[:ntr], t[:ntr]), batch_size=32, shuffle=True)
    opt = torch.optim.SGD(model.parameters(), lr=0.005, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)

    def rmse(m):
        with torch.no_grad():
            pred = m(x[ntr:]).squeeze(1) * ystd + ymean
            return (pred - y[ntr:]).pow(2).mean().sqrt().item()

    r, dt = train(model, loader, opt, nn.MSELoss(), args.epochs or 40, rmse, "test rmse", sched)
    print(f"test rmse: {r:.4f}")
    print(f"train time: {dt:.2f}s")
    save(model, args.save)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("example", choices=["digits_mlp", "digits_cnn", "iris", "diabetes"])
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--save", default=None)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    globals()[a.example](a)
