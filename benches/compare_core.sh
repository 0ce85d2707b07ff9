#!/usr/bin/env bash
# Runs Flambeau's core benchmark and PyTorch's twin back to back (twice, interleaved, to expose
# the machine's noise) and prints each workload's medians and the PyTorch/Flambeau time ratio.
# Usage: PY=/path/to/python-with-torch benches/compare_core.sh [quick]
# (also `benches/compare.sh core [quick]`)
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
print(f"{'workload':<42}{'flambeau (us)':>26}{'torch (us)':>26}{'torch/flambeau':>16}")
for w, fw in rows.items():
    f = [r["median_us"] for r in fw.get("flambeau", [])]
    t = [r["median_us"] for r in fw.get("torch", [])]
    ratio = " / ".join(f"{b / a:.2f}" for a, b in zip(f, t))
    fs = " / ".join(f"{v:.1f}" for v in f)
    ts = " / ".join(f"{v:.1f}" for v in t)
    print(f"{w:<42}{fs:>26}{ts:>26}{ratio:>16}")
    for fwk in ("flambeau", "torch"):
        g = [r.get("gflops") for r in fw.get(fwk, []) if r.get("gflops")]
        if g:
            print(f"{'':<42}{fwk} GFLOP/s: {' / '.join(map(str, g))}")
PYEOF
rm -f "$out"
