"""minatt.tools.figures.trained: the pictures that need trained models, on the seconds-long small settings."""

from __future__ import annotations

import numpy as np

from minatt.tools.figures.trained import INPUTS, _config, heatmaps_figure, train_model


def test_train_model_photographs_its_input_at_the_asked_steps():
    run = train_model(_config("reverse", small=True, steps=2), snapshot_at=(0, 2))
    assert run.trainer.step == 2 and sorted(run.snapshots) == [0, 2]
    for prediction in run.snapshots.values():
        assert prediction.src_tokens[:8] == INPUTS["reverse"].split()
        assert np.asarray(prediction.attention).shape == (len(prediction.out_tokens), len(prediction.src_tokens))
    assert run.metrics["status"] == "done"


def test_the_snapshots_side_by_side_share_one_colour_scale():
    run = train_model(_config("sort", small=True, steps=1), snapshot_at=(0, 1))
    fig = heatmaps_figure([(run.snapshots[0], "step 0"), (run.snapshots[1], "step 1")], "snapshots")
    images = [image for ax in fig.axes for image in ax.images]
    assert len(images) == 2 and {(im.norm.vmin, im.norm.vmax) for im in images} == {(0.0, 1.0)}
    assert sum(1 for ax in fig.axes if ax.get_label() == "<colorbar>") == 1
    assert [ax.get_title().splitlines()[0] for ax in fig.axes if ax.images] == ["step 0", "step 1"]
