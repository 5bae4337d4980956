"""``python -m minatt bench``: time full training steps, against PyTorch if asked.

    steps     the two training steps (minatt's, and the twin's trainer), their timing, the matmul peak
    memory    peak memory of one step in a fresh process; bytes kept for the backward
    command   the ``bench`` command: what it measures, its table and its JSON line

:mod:`minatt.tools.bench.bench_command` describes what is measured and how.
"""

from minatt.tools.bench.bench_command import add_arguments, add_parser, bench, format_result, main, run
from minatt.tools.bench.timed_steps import matmul_peak, time_steps

__all__ = ["add_arguments", "add_parser", "bench", "format_result", "main", "matmul_peak", "run", "time_steps"]
