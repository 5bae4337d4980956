"""minatt.train.config: TrainConfig (holding the model's Seq2SeqConfig) and its validation."""

from __future__ import annotations

from dataclasses import fields

import pytest

from minatt.errors import ConfigError
from minatt.model.seq2seq import Seq2SeqConfig
from minatt.train.config import TrainConfig

pytestmark = pytest.mark.usefixtures("one_blas_thread")


def test_no_model_setting_is_a_field_of_train_config_too():
    own = {f.name for f in fields(TrainConfig)}
    assert own.isdisjoint(f.name for f in fields(Seq2SeqConfig)) and "model" in own
    config = TrainConfig(hidden=24, score="dot", steps=7)
    assert (config.model.hidden, config.model.score, config.steps) == (24, "dot", 7)
    assert TrainConfig.from_dict(config.to_dict()) == config and config.replace(hidden=8).model.hidden == 8
    assert config.model.src_vocab is None  # the task's, set by build_model
    full = TrainConfig(Seq2SeqConfig(14, 14, hidden=24), steps=7)
    assert full.replace(steps=9).model == Seq2SeqConfig(14, 14, hidden=24)  # a replace keeps the whole model


def test_config_validation_lists_valid_choices():
    with pytest.raises(ConfigError, match="unknown task 'rev': choose one of copy, reverse, sort, dates, denoise"):
        TrainConfig(task="rev").validate()
    with pytest.raises(ConfigError, match="unknown cell 'rnn': choose one of lstm, gru"):
        TrainConfig(cell="rnn").validate()
    with pytest.raises(ConfigError, match="hidden must be a positive integer, got 0"):
        TrainConfig(hidden=0).validate()
    with pytest.raises(ConfigError, match="need min_len <= max_len"):
        TrainConfig(min_len=5, max_len=3).validate()
    with pytest.raises(ConfigError, match="unknown training settings colour"):
        TrainConfig.from_dict({"colour": "red"})
    TrainConfig(task="dates", min_len=50, max_len=1).validate()  # lengths do not apply to dates
