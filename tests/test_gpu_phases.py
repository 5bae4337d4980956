"""minatt.tools.bench.gpu_phases: where a GPU step's time goes. Its timing needs a GPU to mean anything
(minatt/tools/bench/gpu_check.sh runs it there); on the CPU it still runs end to end on NumPy, which is what
is checked here: the median it takes, and one JSON line with every op and phase."""

from __future__ import annotations

import json

import numpy as np
import pytest

from minatt.tools.bench import gpu_phases


def test_the_median_of_the_timed_calls_after_one_warm_up(monkeypatch):
    ticks = iter([0.0, 1.0, 1.0, 4.0, 4.0, 6.0])  # three timed calls: 1, 3 and 2 seconds
    monkeypatch.setattr(gpu_phases.time, "perf_counter", lambda: next(ticks))
    calls = []
    assert gpu_phases.median_seconds(lambda: calls.append(1), 3) == 2.0
    assert len(calls) == 4  # the warm-up, then three


def test_it_reports_every_op_and_phase_as_one_json_line(capsys):
    assert gpu_phases.main(["--backend", "numpy", "--repeats", "2"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["backend"] == "numpy" and result["fused_available"] is False
    assert set(result["ops_us"]) >= {"lstm_cell fwd+bwd", "masked softmax fwd+bwd", "cross_entropy fwd+bwd"}
    assert all(t["fused"] > 0 and t["reference"] > 0 for t in result["ops_us"].values())
    assert set(result["launch_us"]) >= {"elementwise a + b", "product a @ W", "copy into a slice"}
    assert all(us > 0 for us in result["launch_us"].values())
    phases = result["phases_ms"]
    assert phases["step"] == pytest.approx(phases["forward"] + phases["backward"] + phases["clip"] + phases["adam"])


def test_a_launch_cost_is_the_queued_calls_total_over_their_count(monkeypatch):
    """repeats calls, one synchronisation, the total divided by repeats (not a median of synchronised calls)."""
    syncs = []
    monkeypatch.setattr(gpu_phases, "synchronize", lambda: syncs.append(1))
    ticks = iter(float(t) for t in range(0, 1000, 10))  # each read of the clock 10 s after the last
    monkeypatch.setattr(gpu_phases.time, "perf_counter", lambda: next(ticks))
    costs = gpu_phases.launch_costs(np, 4, N=2, H=3)
    assert set(costs.values()) == {1e6 * 10 / 4}  # start and end read once per kind: 10 s over 4 calls
    assert len(syncs) == 2 * len(costs)  # one after the warm-up call, one after the queued calls

