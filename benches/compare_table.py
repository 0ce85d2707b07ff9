"""Tables for benches/compare.sh from the JSON lines of its runs (standard library only).

Usage: python compare_table.py run1.jsonl run2.jsonl ...
Prints three markdown tables: the medians per framework (run1 / run2), the ratios of every other
framework against Flambeau (above 1: Flambeau ahead), and each workload's distance from this
machine's f32 floor. PyTorch's figure is the better of its 1- and 2-thread runs, marked (1t)/(2t).
"""
import json
import os
import sys
from collections import defaultdict

# Floating-point work of one timed call. The training steps count three times the forward
# matmul/convolution FLOPs (forward, weight gradients, input gradients), the usual convention.
def mlp_forward(batch):
    return 2 * batch * (784 * 512 + 512 * 256 + 256 * 10)

def cnn_forward(batch=64):
    conv1 = 2 * batch * 32 * 26 * 26 * (1 * 9)
    conv2 = 2 * batch * 64 * 11 * 11 * (32 * 9)
    fc = 2 * batch * (64 * 5 * 5 * 128 + 128 * 10)
    return conv1 + conv2 + fc

def transformer_forward(b=32, s=64, d=128, heads=4, ff=512):
    tokens = b * s
    projections = 2 * tokens * d * (3 * d) + 2 * tokens * d * d
    attention = 2 * (2 * b * heads * s * s * (d // heads))
    feed_forward = 2 * (2 * tokens * d * ff)
    return projections + attention + feed_forward

FLOPS = {
    "mlp_784_512_256_10_b128_adam_step": 3 * mlp_forward(128),
    "cnn_b64_28x28_sgdm_step": 3 * cnn_forward(),
    "transformer_layer_d128_s64_b32_adamw_step": 3 * transformer_forward(),
    "sgemm_256": 2 * 256**3,
    "sgemm_1024": 2 * 1024**3,
    "sgemm_2048": 2 * 2048**3,
    "mlp_infer_b1": mlp_forward(1),
}
HIGHER_IS_BETTER = {"gflops"}


def metric(workload):
    if workload == "mlp_train_peak_memory":
        return "peak_rss_mb"
    if workload.startswith("sgemm_") or workload == "peak_fma":
        return "gflops"
    return "median_ms"


def better(a, b, key):
    if a is None:
        return b
    return (max if key in HIGHER_IS_BETTER else min)(a, b, key=lambda r: r[key])


def load(paths):
    """Per run: {(framework, workload): record}, with torch-1t/torch-2t merged into torch."""
    runs, frameworks, workloads = [], [], []
    for path in paths:
        run = {}
        for line in open(path):
            line = line.strip()
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            fw, wl = r["framework"], r["workload"]
            if fw.startswith("torch-"):
                r = dict(r, threads=fw[len("torch-"):])
                fw = "torch"
            key = metric(wl)
            if key not in r:
                continue
            run[fw, wl] = better(run.get((fw, wl)), r, key)
            frameworks += [fw] if fw not in frameworks else []
            workloads += [wl] if wl not in workloads else []
        runs.append(run)
    # PyTorch first, Flambeau last, the peers in the order they ran
    frameworks.sort(key=lambda f: (f != "torch", f == "flambeau"))
    return runs, frameworks, workloads


def cell(r):
    if r is None:
        return "—"
    notes = [f'{r["gflops"]:.3g} GF/s'] if "gflops" in r else []
    notes += [r["threads"]] if "threads" in r else []
    s = f'{r["peak_rss_mb"]:.4g} MB' if "peak_rss_mb" in r else f'{r["median_ms"]:.4g}'
    return s + (f' ({", ".join(notes)})' if notes else "")


def ratio(other, flambeau, key):
    if other is None or flambeau is None or not other[key] or not flambeau[key]:
        return "—"
    x = flambeau[key] / other[key] if key in HIGHER_IS_BETTER else other[key] / flambeau[key]
    return f"{x:.3g}"


def main(paths):
    runs, fws, wls = load(paths)
    print("### Medians (ms; run " + " / run ".join(str(i + 1) for i in range(len(runs))) + ")\n")
    print("| workload | " + " | ".join(fws) + " |")
    print("|---|" + "---|" * len(fws))
    for wl in wls:
        cells = [" / ".join(cell(run.get((fw, wl))) for run in runs) for fw in fws]
        print(f"| {wl} | " + " | ".join(cells) + " |")

    others = [fw for fw in fws if fw != "flambeau"]
    if "flambeau" in fws and others:
        print("\n### Ratios against Flambeau (time: other / flambeau; sgemm GFLOP/s: "
              "flambeau / other; memory: other / flambeau; above 1: Flambeau ahead)\n")
        print("| workload | " + " | ".join(others) + " |")
        print("|---|" + "---|" * len(others))
        for wl in wls:
            if wl == "peak_fma":
                continue
            key = metric(wl)
            cells = [" / ".join(ratio(run.get((fw, wl)), run.get(("flambeau", wl)), key)
                                for run in runs) for fw in others]
            print(f"| {wl} | " + " | ".join(cells) + " |")

    # The floor: this machine's f32 peak, the best of the FMA loop (peak_fma) and every GEMM
    # throughput seen (no GEMM beats the peak, so a faster one shows the loop was slowed by a
    # busy core). FLOOR_GFLOPS overrides it (e.g. the per-core peak times the cores).
    fma = [r["gflops"] for run in runs for (fw, wl), r in run.items() if wl == "peak_fma"]
    gemm = [r["gflops"] for run in runs for (fw, wl), r in run.items() if wl.startswith("sgemm_")]
    if os.environ.get("FLOOR_GFLOPS"):
        peaks, source = [float(os.environ["FLOOR_GFLOPS"])], "FLOOR_GFLOPS"
    else:
        peaks = fma + gemm
        source = "best sgemm seen" if not fma or max(gemm, default=0) > max(fma) else "peak_fma"
    if not peaks:
        return
    peak = max(peaks)
    print(f"\n### Distance from the floor (f32 peak {peak:.4g} GFLOP/s, {source}; "
          "cells: median / floor, run " + " / run ".join(str(i + 1) for i in range(len(runs))) + ")\n")
    shown = [fw for fw in ("torch", "flambeau") if fw in fws]
    print("| workload | GFLOP | floor (ms) | " + " | ".join(shown) + " |")
    print("|---|---|---|" + "---|" * len(shown))
    for wl in wls:
        if wl not in FLOPS:
            continue
        floor_ms = FLOPS[wl] / (peak * 1e9) * 1e3
        cells = [" / ".join(f'{run[fw, wl]["median_ms"] / floor_ms:.3g}x' if (fw, wl) in run else "—"
                            for run in runs) for fw in shown]
        print(f"| {wl} | {FLOPS[wl] / 1e9:.4g} | {floor_ms:.4g} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
