#!/usr/bin/env bash
# Runs Flambeau's core benchmark and PyTorch's twin back to back (twice, interleaved, to expose
# the machine's noise) and prints each workload's medians and the PyTorch/Flambeau time ratio.
# Usage: PY=/path/to/python-with-torch benches/compare.sh [quick]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
cargo build --release --bench core >/dev/null 2>&1 || cargo bench --bench core --no-run
BIN=$(ls -t target/release/deps/core-* | grep -v '\.d$' | head -1)
out=$(mktemp)
for run in 1 2; do
  "$BIN" "$@" | sed "s/}$/, \"run\": $run}/" >>"$out"
  "$PY" benches/torch_core.py "$@" | sed "s/}$/, \"run\": $run}/" >>"$out"
done
"$PY" - "$out" <<'PYEOF'
import json, sys, collections
rows = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows[r["workload"]].setdefault(r["framework"], []).append(r)
print(f"{'workload':<22}{'flambeau (us)':>22}{'torch (us)':>22}{'torch/flambeau':>18}")
for w, fw in rows.items():
    f = [r["median_us"] for r in fw.get("flambeau", [])]
    t = [r["median_us"] for r in fw.get("torch", [])]
    ratio = " / ".join(f"{b / a:.2f}" for a, b in zip(f, t))
    fs = " / ".join(f"{v:.3f}" for v in f)
    ts = " / ".join(f"{v:.3f}" for v in t)
    print(f"{w:<22}{fs:>22}{ts:>22}{ratio:>18}")
    for fwk in ("flambeau", "torch"):
        g = [r.get("gflops") for r in fw.get(fwk, []) if r.get("gflops")]
        if g:
            print(f"{'':<22}{fwk} GFLOP/s: {' / '.join(map(str, g))}")
PYEOF
rm -f "$out"
