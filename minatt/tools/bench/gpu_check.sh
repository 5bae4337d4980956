#!/usr/bin/env bash
# The GPU measurements of issue 27, in one call on a fresh GPU machine (about 5 minutes at most).
#
# Run from the repository root, with CuPy, PyTorch and pytest installed (minatt itself need not be):
#     OUT=/some/folder bash minatt/tools/bench/gpu_check.sh
# Optional: the code before the change, extracted at .gpu_before/ (git archive 7ca864e | tar -x -C
# .gpu_before), is timed beside it. Everything lands under $OUT: one log per part and gpu_check.json.
# Each part has its own timeout, and the whole has a deadline (BUDGET_S, default 300 s), so one failure
# leaves the rest. PARTS="suite" (names or prefixes, space-separated) runs only those parts.
#
#   versions  GPU name, driver, CuPy, CUDA runtime, PyTorch, NumPy, cores
#   fused     tests/test_fused*.py: every fused kernel against its per-equation reference (real CuPy)
#   step      the small step (N=64, H=128, E=64, S=T=20, LSTM + additive), bench --backend cupy --vs-torch:
#             before (.gpu_before), after, after with MINATT_FUSED=0 (sync-free, not fused); and two larger
#   train     the default `train --backend cupy` against `train` (NumPy) on this host's CPU, wall time
#   gradcheck `gradcheck --backend cupy --model`, wall time (goal: under 90 s)
#   workers   N=256, H=512 on the CPU, --threads = all cores, --workers 1, 2, 4, 8, auto
#   phases    each fused op against its reference, and the small step's phases (minatt/tools/bench/gpu_phases.py)
#   suite     pytest tests -k "fused or cupy or strict" on real CuPy (last: the longest, and already
#             known to pass before the change)
set -u
OUT=${OUT:?set OUT to a folder for the logs and gpu_check.json}
mkdir -p "$OUT"
rm -f "$OUT/parts.txt"
ROOT=$(pwd)
PY=${PYTHON:-python3}
export PYTHONPATH="$ROOT" PYTHONUNBUFFERED=1
START=$(date +%s)
DEADLINE=$((START + ${BUDGET_S:-300}))
CORES=$(nproc)
# pytest-timeout and pytest-xdist may be missing on the GPU image (nothing can be installed there): use each if present
TIMEOUT60=(); TIMEOUT120=(); XDIST=()
$PY -c "import pytest_timeout" 2>/dev/null && TIMEOUT60=(--timeout 60) && TIMEOUT120=(--timeout 120)
$PY -c "import xdist" 2>/dev/null && XDIST=(-n 8)

left() { echo $((DEADLINE - $(date +%s))); }

# part NAME LIMIT_S COMMAND...: run with a timeout (the smaller of LIMIT_S and the time left); log, rc, seconds
part() {
    local name=$1 limit=$2; shift 2
    if [ -n "${PARTS:-}" ]; then  # PARTS="suite" or "step workers": only those (workers = every workers_*)
        case " $PARTS " in *" $name "*|*" ${name%%_*} "*) ;; *) return ;; esac
    fi
    echo "$name" >> "$OUT/parts.txt"
    local room; room=$(left)
    [ "$room" -lt "$limit" ] && limit=$room
    if [ "$limit" -le 5 ]; then
        echo "skipped: no time left" > "$OUT/$name.log"; echo 124 > "$OUT/$name.rc"; echo 0 > "$OUT/$name.seconds"
        echo "== $name: skipped (deadline)"; return
    fi
    local t0; t0=$(date +%s.%N)
    timeout --kill-after=5 "$limit" "$@" > "$OUT/$name.log" 2>&1
    local rc=$?
    echo "$rc" > "$OUT/$name.rc"
    awk -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.2f\n", t1 - t0 }' > "$OUT/$name.seconds"
    echo "== $name: rc $rc, $(cat "$OUT/$name.seconds") s (limit $limit s)"
}

part versions 30 $PY -c '
import json, os, subprocess, numpy, cupy, torch
try:
    smi = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                         capture_output=True, text=True).stdout.strip()
except OSError as exc:
    smi = f"nvidia-smi: {exc}"
rt = cupy.cuda.runtime.runtimeGetVersion()
print(json.dumps({"gpu": smi, "cupy": cupy.__version__, "cuda_runtime": f"{rt // 1000}.{rt % 1000 // 10}",
                  "torch": torch.__version__, "torch_cuda": torch.version.cuda, "numpy": numpy.__version__,
                  "cores": os.cpu_count()}))'

# the fused kernels against their references, first and short: nothing below means much if they disagree
part fused 100 $PY -m pytest tests/test_fused*.py -q -p no:cacheprovider -o addopts="" "${TIMEOUT60[@]}" -rs

SMALL=(--batch 64 --hidden 128 --embed 64 --src-len 20 --tgt-len 20 --cell lstm --score additive)
BENCH=(-m minatt bench --backend cupy --vs-torch --json --steps 30 --warmup 5 --block 5 --pause 0.1)
if [ -d .gpu_before/minatt ]; then  # python -m puts the working folder first on sys.path: run from there
    part step_before 60 bash -c 'cd .gpu_before && PYTHONPATH=$PWD "$0" "$@"' $PY "${BENCH[@]}" "${SMALL[@]}"
fi
part step_after 60 $PY "${BENCH[@]}" "${SMALL[@]}"
part step_unfused 60 env MINATT_FUSED=0 $PY "${BENCH[@]}" "${SMALL[@]}"
part step_n1024 45 $PY "${BENCH[@]}" --steps 15 --batch 1024 --hidden 128 --embed 64
part step_h512 45 $PY "${BENCH[@]}" --steps 15 --batch 256 --hidden 512 --embed 256

part train_gpu 75 $PY -m minatt train --backend cupy --quiet --out "/tmp/run-gpu-$START"
cp "/tmp/run-gpu-$START/metrics.json" "$OUT/train_gpu_metrics.json" 2>/dev/null
part train_cpu 60 $PY -m minatt train --quiet --out "/tmp/run-cpu-$START"
cp "/tmp/run-cpu-$START/metrics.json" "$OUT/train_cpu_metrics.json" 2>/dev/null

part gradcheck 90 $PY -m minatt gradcheck --backend cupy --model

for W in 1 2 4 8 auto; do
    part "workers_$W" 40 $PY -m minatt bench --json --steps 4 --warmup 1 --batch 256 --hidden 512 --embed 256 \
        --threads "$CORES" --workers "$W"
done

part phases 40 $PY -m minatt.tools.bench.gpu_phases --repeats 100

part suite 150 $PY -m pytest tests -k "fused or cupy or strict" -q -p no:cacheprovider -o addopts="" \
    --continue-on-collection-errors "${TIMEOUT120[@]}" "${XDIST[@]}"

# one JSON of everything, and a short table last (the reply carries the end of the output)
$PY - "$OUT" <<'EOF'
import json, pathlib, re, sys

out = pathlib.Path(sys.argv[1])
report = {}
for name in (out / "parts.txt").read_text().split():
    rc = out / f"{name}.rc"
    log = (out / f"{name}.log").read_text(errors="replace")
    entry = {"rc": int(rc.read_text().strip() or -1), "seconds": float((out / f"{name}.seconds").read_text() or 0)}
    lines = [line for line in log.splitlines() if line.startswith("{")]
    if lines:
        try:
            entry["json"] = json.loads(lines[-1])
        except ValueError:
            pass
    tail = [line for line in log.splitlines() if re.search(r"passed|failed|error", line)]
    entry["summary"] = tail[-1] if tail else (log.strip().splitlines() or [""])[-1]
    report[name] = entry
for run in ("gpu", "cpu"):
    metrics = out / f"train_{run}_metrics.json"
    if metrics.exists():
        report[f"train_{run}"]["metrics_file"] = json.loads(metrics.read_text())
(out / "gpu_check.json").write_text(json.dumps(report, indent=1))

def ms(name, who="minatt"):
    j = report.get(name, {}).get("json") or {}
    return f"{j[who]['median_ms']:.1f}" if isinstance(j.get(who), dict) else "-"

print("\npart            rc   seconds   minatt ms   torch ms")
for name, e in report.items():
    print(f"{name:15s} {e['rc']:3d} {e['seconds']:8.1f}   {ms(name):>9s}  {ms(name, 'torch'):>9s}   {str(e['summary'])[:60]}")
EOF
echo "total $(( $(date +%s) - START )) s; everything under $OUT (gpu_check.json)"
