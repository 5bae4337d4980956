"""minatt.tools.plot: attention heatmaps and curves are drawn without a display and written atomically."""

from __future__ import annotations

import struct
import subprocess
import sys

import numpy as np
import pytest

from minatt.tools import plot

PNG = b"\x89PNG\r\n\x1a\n"


def _metrics(with_lengths: bool = True) -> dict:
    steps = list(range(1, 201))
    m = {
        "loss": {"step": steps, "value": list(np.exp(-np.arange(200) / 50.0) * 2.0 + 0.01)},
        "eval": {"step": [50, 100, 150, 200], "loss": [1.0, 0.5, 0.2, 0.1],
                 "token_accuracy": [0.3, 0.6, 0.9, 0.99], "sequence_accuracy": [0.0, 0.2, 0.7, 0.95]},
    }
    if with_lengths:
        m["by_length"] = [{"length": n, "trained": n <= 5, "sequence_accuracy": 1.0 / n, "token_accuracy": 0.5}
                          for n in range(3, 9)]
    return m


def test_attention_heatmap_has_labelled_axes(tmp_path):
    w = np.array([[0.1, 0.9, 0.0], [0.7, 0.2, 0.1]])
    fig = plot.attention_figure(w, ["3", "1", "<eos>"], ["1", "<eos>"], title="reverse")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "source" and ax.get_ylabel() == "output"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["3", "1", "<eos>"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1", "<eos>"]
    assert np.allclose(ax.images[0].get_array(), w)
    path = tmp_path / "attention.png"
    plot.save_attention(path, w, ["3", "1", "<eos>"], ["1", "<eos>"])
    assert path.read_bytes()[:8] == PNG
    assert [p.name for p in tmp_path.iterdir()] == ["attention.png"]  # no temp file left behind


def test_a_long_attention_map_stays_a_sane_size(tmp_path):
    """205 x 206 tokens: the image stays under 2400 px a side (the old one was 7012 x 13270), labels thinned."""
    n = 205
    w = np.full((n + 1, n), 1.0 / n)
    src, out = [str(i % 10) for i in range(n)], [str(i % 10) for i in range(n + 1)]
    fig = plot.attention_figure(w, src, out, title=" ".join(src) + " -> " + " ".join(out))
    assert max(fig.get_size_inches()) <= 24
    assert len(fig.axes[0].get_xticklabels()) < n and "a label every" in fig.axes[0].get_xlabel()
    assert len(fig.axes[0].get_title()) < 300
    path = tmp_path / "long.png"
    plot.save_figure(fig, path)
    width, height = struct.unpack(">II", path.read_bytes()[16:24])   # the PNG's IHDR chunk
    assert width <= 2400 and height <= 2400


def test_attention_shape_must_match_labels():
    with pytest.raises(ValueError, match=r"expected \(outputs, sources\) = \(2, 3\)"):
        plot.attention_figure(np.zeros((3, 2)), ["a", "b", "c"], ["x", "y"])


def test_curves_with_and_without_lengths(tmp_path):
    fig = plot.curves_figure(_metrics())
    assert len(fig.axes) == 3
    assert fig.axes[0].get_title() == "loss" and fig.axes[1].get_title() == "accuracy"
    plot.save_curves(tmp_path / "curves.png", _metrics(with_lengths=False))
    assert (tmp_path / "curves.png").read_bytes()[:8] == PNG
    assert len(plot.curves_figure(_metrics(with_lengths=False)).axes) == 2
    plot.save_curves(tmp_path / "empty.png", {"loss": {"step": [], "value": []}, "eval": {}})  # no data: no crash


def test_smooth_is_a_trailing_mean():
    assert np.allclose(plot.smooth([1, 2, 3, 4], 2), [1, 1.5, 2.5, 3.5])
    assert np.allclose(plot.smooth([1, 2, 3], 1), [1, 2, 3])
    assert plot.smooth([], 5).size == 0


def test_plotting_needs_no_display_and_leaves_pyplot_alone(tmp_path):
    code = (
        "import os, sys; os.environ.pop('DISPLAY', None); os.environ['MPLBACKEND'] = 'TkAgg';"
        "import numpy as np; from minatt.tools import plot;"
        f"plot.save_attention({str(tmp_path / 'a.png')!r}, np.eye(2), ['a', 'b'], ['c', 'd']);"
        "assert 'matplotlib.pyplot' not in sys.modules; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
    assert (tmp_path / "a.png").read_bytes()[:8] == PNG
