#!/usr/bin/env bash
# Runs the peers' benchmark workloads in PyTorch (torch_bench.py, 1 and 2 threads: the better
# counts), in each Rust peer whose binary is built, and in Flambeau (flambeau-bench), back to
# back, twice, on this machine, then prints a table of medians and a table of ratios against
# each, and each workload's distance from this machine's f32 floor (see BENCHMARKS.md).
#
# Usage: PY=/path/to/python-with-torch benches/compare.sh
#        benches/compare.sh core [quick]     the core-op comparison (benches/compare_core.sh)
# Environment:
#   PY          a Python with torch; without torch, PyTorch is skipped (the table script needs
#               only the standard library, and falls back to python3)
#   PEERS       the peers' folder holding torch_bench.py and rust/ (default: ../shared/peers)
#   PEERS_WORK  where the peers' run_all.sh built the Rust peers
#               (default: ${TMPDIR:-/tmp}/flambeau-peers; build them with `run_all.sh`)
#   RESULTS     where the JSON lines and the table go (default: target/compare)
#   FLOOR_GFLOPS  the f32 peak for the floor table (default: the best of peak_fma and any sgemm)
set -uo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "core" ]]; then
  shift
  exec benches/compare_core.sh "$@"
fi
PY=${PY:-python3}
PEERS=${PEERS:-../shared/peers}
PEERS_WORK=${PEERS_WORK:-${TMPDIR:-/tmp}/flambeau-peers}
RESULTS=${RESULTS:-target/compare}
T=$PEERS_WORK/target/release; TX=$PEERS_WORK/target-x86v4/release
mkdir -p "$RESULTS"
notes=$RESULTS/notes.txt; : > "$notes"
note() { echo "note: $*" | tee -a "$notes" >&2; }

cargo build --release -p flambeau-bench || { echo "cannot build flambeau-bench" >&2; exit 1; }
BIN=target/release/flambeau-bench

torch=0
if [[ -f $PEERS/torch_bench.py ]] && "$PY" -c "import torch" 2>/dev/null; then
  torch=1
else
  note "PyTorch skipped: PY=$PY has no torch or $PEERS/torch_bench.py is missing"
fi

# name|binary|argument (each binary prints its own framework label)
peers=(
  "candle|$T/candle_bench|"
  "burn-flex|$T/burn_bench|flex"
  "burn-ndarray|$T/burn_bench|ndarray"
  "burn-flex-x86v4|$TX/burn_bench|flex"
  "ferrotorch|$T/ferrotorch_bench|"
  "rustorch|$T/rustorch_bench|"
)
for p in "${peers[@]}"; do
  IFS='|' read -r name bin _ <<<"$p"
  [[ -x $bin ]] || note "$name skipped: $bin not built (run $PEERS/run_all.sh)"
done

# Appends a framework field to lines that lack one (torch_bench.py's).
label() { sed "/\"framework\"/! s/}\$/, \"framework\": \"$1\"}/"; }

{ lscpu | grep 'Model name'; echo "nproc: $(nproc)"; } > "$RESULTS/machine.txt" 2>/dev/null
for run in 1 2; do
  out=$RESULTS/run$run.jsonl; : > "$out"
  echo "== run $run ==" >&2
  if (( torch )); then
    for th in 1 2; do
      "$PY" "$PEERS/torch_bench.py" "$th" | label "torch-${th}t" >> "$out"
      "$PY" "$PEERS/torch_bench.py" "$th" mlp_train_peak_memory | label "torch-${th}t" >> "$out"
    done
  fi
  for p in "${peers[@]}"; do
    IFS='|' read -r name bin arg <<<"$p"
    [[ -x $bin ]] || continue
    "$bin" $arg >> "$out" || note "$name failed in run $run"
  done
  "$BIN" >> "$out" || note "flambeau-bench failed in run $run"
done
TABLE_PY=$PY
"$TABLE_PY" -c "import json" 2>/dev/null || TABLE_PY=python3
"$TABLE_PY" benches/compare_table.py "$RESULTS/run1.jsonl" "$RESULTS/run2.jsonl" | tee "$RESULTS/table.md"
[[ -s $notes ]] && { echo; sed 's/^/- /' "$notes"; } | tee -a "$RESULTS/table.md"
echo "results in $RESULTS" >&2
