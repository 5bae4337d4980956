#!/usr/bin/env bash
# The full runs behind chapter 10's source claims 1, 2 and 5 (experiments alignment, lengths, pretrain),
# for a many-core machine: each experiment runs its independent trainings JOBS at a time, one process each.
#
#   minatt/experiments/full_runs.sh OUT [JOBS]      (JOBS: default 15; run from the repository root)
#
# Writes OUT/10_{alignment,lengths,pretrain}.json and .png, OUT/10_alignment_heatmaps.png, and the finished
# runs in OUT/10_<name>.runs/ (not needed afterwards). Interrupted? Run the same line again: the finished runs
# are kept and only the rest is trained. PYTHON (default: python) is the interpreter; minatt must be importable
# (pip install -e ., or PYTHONPATH=$PWD). Without matplotlib the JSON files are still complete; draw the figures
# afterwards, wherever matplotlib is, with: python -m minatt.experiments all --redraw --out OUT
set -euo pipefail
# one BLAS thread per process (the experiments also set it through threadpoolctl where it is installed)
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
out=${1:?usage: minatt/experiments/full_runs.sh OUT [JOBS]}
jobs=${2:-15}
py=${PYTHON:-python}
if ! "$py" -c "import threadpoolctl" 2>/dev/null; then
  # minatt's command line imports threadpoolctl; without it, a stand-in that sets nothing (the variables above do)
  shim=$(mktemp -d)
  printf '%s\n' "def threadpool_info():" "    return []" "" "class threadpool_limits:" \
    "    def __init__(self, *args, **kwargs): pass" "    def __enter__(self): return self" \
    "    def __exit__(self, *exc): return False" > "$shim/threadpoolctl.py"
  export PYTHONPATH="$shim${PYTHONPATH:+:$PYTHONPATH}"
  echo "full_runs: threadpoolctl is not installed: using a stand-in; BLAS threads set by the environment"
fi
start=$SECONDS
for name in pretrain lengths alignment; do
  "$py" -m minatt.experiments "$name" --jobs "$jobs" --out "$out"
  echo "full_runs: $name done, $((SECONDS - start)) s in all"
done
