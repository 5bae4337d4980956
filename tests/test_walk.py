"""minatt.tools.figures.walk: chapter 1's attention step drawn in four panels from the arrays it is given."""

from __future__ import annotations

import numpy as np

from minatt.tools.figures.walk import attention_walk_figure


def test_the_panels_show_the_arrays_they_are_given():
    rng = np.random.default_rng(0)
    query, scores = rng.uniform(-1, 1, 6), rng.normal(size=4)
    weights = np.exp(scores) / np.exp(scores).sum()
    keys = rng.uniform(-1, 1, (4, 5))
    fig = attention_walk_figure(query, scores, weights, keys, weights @ keys, list("abcd"), "walk")
    ax_q, ax_e, ax_a, ax_c, ax_bar = fig.axes
    np.testing.assert_array_equal(ax_q.images[0].get_array()[:, 0], query)
    np.testing.assert_allclose([bar.get_width() for bar in ax_e.patches], scores)
    np.testing.assert_allclose([bar.get_width() for bar in ax_a.patches], weights)
    shown = np.ma.getdata(ax_c.images[0].get_array())
    np.testing.assert_array_equal(shown[:4], keys)
    assert np.isnan(shown[4]).all()  # the blank row between the keys and the context
    np.testing.assert_allclose(shown[5], weights @ keys)
    assert [t.get_text() for t in ax_c.get_yticklabels()] == ["k: a", "k: b", "k: c", "k: d", "context c"]
    assert fig._suptitle.get_text() == "walk"
