#!/usr/bin/env bash
# The full runs behind chapter 10's source claims 1, 2 and 5 (experiments alignment, lengths, pretrain),
# for a many-core machine: each experiment runs its independent trainings JOBS at a time, one process each.
#
#   minatt/experiments/full_runs.sh OUT [JOBS]      (JOBS: default 15; run from the repository root)
#
# Writes OUT/10_{alignment,lengths,pretrain}.json and .png, OUT/10_alignment_heatmaps.png, and the finished
# runs in OUT/10_<name>.runs/ (not needed afterwards). Interrupted? Run the same line again: the finished runs
# are kept and only the rest is trained. PYTHON (default: python) is the interpreter; minatt must be importable
# (pip install -e ., or PYTHONPATH=$PWD).
set -euo pipefail
out=${1:?usage: minatt/experiments/full_runs.sh OUT [JOBS]}
jobs=${2:-15}
py=${PYTHON:-python}
start=$SECONDS
for name in pretrain lengths alignment; do
  "$py" -m minatt experiment "$name" --jobs "$jobs" --out "$out"
  echo "full_runs: $name done, $((SECONDS - start)) s in all"
done
