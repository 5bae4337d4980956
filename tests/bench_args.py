"""The bench's tiny flags, shared by its tests: a step that takes milliseconds."""

from __future__ import annotations

import argparse

from minatt.tools import bench

TINY = ["--batch", "2", "--src-len", "3", "--tgt-len", "4", "--embed", "5", "--hidden", "6", "--vocab", "7",
        "--steps", "2", "--warmup", "1", "--peak-size", "64",
        "--pause", "0"]


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    return parser.parse_args(argv)
