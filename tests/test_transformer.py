"""minatt.model.transformer: the Transformer encoder in the model (Seq2SeqConfig(encoder="transformer")): its
settings checked, padding kept out of the loss, a run that resumes exactly and decodes, the CLI flags. (Its ops
have their own files: test_self_attention, test_layernorm, test_feedforward, test_encoder_layer.)"""

from __future__ import annotations

import numpy as np
import pytest

from minatt.backend import default_dtype

TINY_RUN = {"embed": 8, "hidden": 16, "batch": 8, "min_len": 2, "max_len": 4, "eval_every": 4, "test_size": 16,
            "warmup": 2, "lr": 0.01, "target": None, "encoder": "transformer", "layers": 1, "heads": 2, "ff": 16}


def test_config_checks_the_transformer_settings():
    from minatt.errors import ConfigError
    from minatt.model.seq2seq import Seq2SeqConfig

    with pytest.raises(ConfigError, match="heads must divide hidden .* got heads=3, hidden=16"):
        Seq2SeqConfig(9, 9, hidden=16, encoder="transformer", heads=3)
    with pytest.raises(ConfigError, match="bidirectional applies to the rnn encoder"):
        Seq2SeqConfig(9, 9, encoder="transformer", bidirectional=True)
    with pytest.raises(ConfigError, match="unknown encoder 'cnn': choose one of rnn, transformer"):
        Seq2SeqConfig(9, 9, encoder="cnn")
    old = Seq2SeqConfig.from_dict({"src_vocab": 9, "tgt_vocab": 9, "hidden": 6})  # a checkpoint from before
    assert old.encoder == "rnn" and Seq2SeqConfig(9, 9, hidden=6, encoder="transformer", heads=2).ff_size == 24


def test_padding_never_reaches_the_loss():
    """The padded positions' own outputs are never used: any ids there give the same loss and gradients."""
    from minatt.gradcheck.model_cases import check_batch
    from minatt.model.seq2seq import Seq2Seq, Seq2SeqConfig

    with default_dtype("float64"):
        model = Seq2Seq(Seq2SeqConfig(7, 6, embed=3, hidden=4, encoder="transformer", heads=2), seed=0)
    batch = check_batch(0)
    other = batch._replace(src=np.where(batch.src_mask, batch.src, 5))  # a real id at every padded position
    (loss, grads), (loss2, grads2) = model.loss_and_grads(batch), model.loss_and_grads(other)
    assert loss == loss2
    for name in grads:
        if name != "enc.embed.W":  # rows 0 and 5 of the embedding are looked up at different places
            np.testing.assert_array_equal(grads[name], grads2[name], err_msg=name)


def test_trains_resumes_exactly_and_decodes(tmp_path):
    from minatt.train import TrainConfig, load_run, predict, resume, train

    cfg = TrainConfig(**TINY_RUN, steps=8)
    train(cfg, tmp_path / "straight")
    assert train(cfg, tmp_path / "split", until=4).status == "paused"
    assert resume(tmp_path / "split").step == 8
    (_, _, a, _), (config, task, b, _) = load_run(tmp_path / "straight"), load_run(tmp_path / "split")
    assert config == cfg and any(name.startswith("enc.layer0.") for name in b.params)
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name], err_msg=name)
    pred = predict(task, b, "3 1 4", beam=3)
    assert pred.src_tokens == ["3", "1", "4"] and pred.attention.shape == (len(pred.out_tokens), 3)


def test_cli_flags(tmp_path, capsys):
    import json

    from minatt import cli

    flags = ["--hidden", "16", "--embed", "8", "--min-len", "2", "--max-len", "4", "--batch", "8", "--test-size", "8",
             "--eval-every", "2", "--steps", "2", "--target", "none", "--quiet", "--encoder", "transformer"]
    assert cli.main(["train", *flags, "--layers", "1", "--heads", "2", "--ff", "8", "--out", str(tmp_path / "r")]) == 0
    assert "transformer encoder (1 layer, 2 heads, ff 8), lstm bahdanau decoder" in capsys.readouterr().out
    model = json.loads((tmp_path / "r" / "config.json").read_text())["model"]
    assert (model["encoder"], model["layers"], model["heads"], model["ff"]) == ("transformer", 1, 2, 8)
    assert cli.main(["train", *flags, "--heads", "3", "--out", str(tmp_path / "bad")]) != 0
    assert "got --heads 3, --hidden 16" in capsys.readouterr().err
