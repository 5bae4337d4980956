"""minatt.train.prediction: decoding one source with a trained model, and its refusals."""

from __future__ import annotations

import pytest

from minatt.errors import ConfigError
from minatt.tasks import make_task
from minatt.train.prediction import predict
from minatt.train.rundir import load_run
from minatt.train.start import train
from tests.tiny_runs import tiny

pytestmark = pytest.mark.usefixtures("one_blas_thread")


def test_predict_refuses_sources_over_the_length_limit(tmp_path):
    from minatt.train import LENGTH_FACTOR, source_limit

    train(tiny(), tmp_path / "run")
    _, task, model, _ = load_run(tmp_path / "run")
    assert source_limit(task) == LENGTH_FACTOR * 4 == 16
    assert len(predict(task, model, ["1"] * 16).src_tokens) == 16
    with pytest.raises(ConfigError, match=r"^the input has 17 tokens, more than this run's limit of 16 \(4 x the "
                                          r"longest training source, 4\): shorten it, or train a run with a larger "
                                          r"--max-len$"):
        predict(task, model, ["1"] * 17)
    dates = make_task("dates")
    with pytest.raises(ConfigError, match=r"the input has 117 characters, more than this run's limit of 116"):
        predict(dates, None, "1" * 117)


def test_predict_decodes_and_rejects_unknown_tokens(tmp_path):
    train(tiny(), tmp_path / "run")
    _, task, model, _ = load_run(tmp_path / "run")
    pred = predict(task, model, "3 1 4")
    assert pred.src_tokens == ["3", "1", "4"]
    assert pred.attention.shape == (len(pred.out_tokens), 3)
    assert all(t in task.tgt_vocab.symbols for t in pred.out_tokens[:-1])
    assert pred.text == " ".join(t for t in pred.out_tokens if t != "<eos>")
    assert predict(task, model, ["3", "1", "4"], beam=3).src_tokens == ["3", "1", "4"]
    with pytest.raises(ConfigError, match="unknown token 'x' at position 1"):
        predict(task, model, "3 x")
