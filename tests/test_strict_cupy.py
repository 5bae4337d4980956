"""The strict CuPy stand-in (tests/strict_cupy.py): it refuses what CuPy refuses, and runs what CuPy runs.

Three kinds of bug pass on NumPy and break on a GPU; each is planted in the model's loss below
and must fail on the stand-in while the same planted code passes on NumPy. Then the rules one by
one, and every name and keyword the stand-in offers checked against the real CuPy (installed by
``pip install 'minatt[test]'``, which imports without a GPU).
"""

from __future__ import annotations

import inspect
import json
import pickle
import sys

import numpy as np
import pytest

import minatt
from minatt.backend import array_module, to_numpy
from minatt.model.seq2seq import Seq2Seq, Seq2SeqConfig
from minatt.ops import loss as loss_module
from minatt.tasks import make_task
from minatt.tools.bench.cache_memory import cache_bytes
from tests import strict_cupy
from tests.strict_cupy import IMPLICIT, cupy

TASK = make_task("reverse", min_len=2, max_len=5)
CONFIG = Seq2SeqConfig(src_vocab=len(TASK.src_vocab.tokens), tgt_vocab=len(TASK.tgt_vocab.tokens), embed=6, hidden=8,
                       score="additive")


def _batch():
    return TASK.batch(0, 4)


def _loss_and_grads(name):
    with minatt.use(name):
        loss, grads = Seq2Seq(CONFIG, seed=1).loss_and_grads(_batch())
        return float(loss), {k: to_numpy(g) for k, g in grads.items()}


def _plant(monkeypatch, original, replacement):
    """Put ``replacement`` wherever a minatt module holds ``original`` (however the code imports it)."""
    for name, module in list(sys.modules.items()):
        if name == "minatt" or name.startswith("minatt."):
            for attr, value in list(vars(module).items()):
                if value is original:
                    monkeypatch.setattr(module, attr, replacement)


# Each bug sits in the loss, on the model's path: a line that NumPy runs and CuPy refuses.
def _host_nan_check(logits):
    assert np.isfinite(np.asarray(logits)).all()  # implicit device-to-host conversion


def _host_mask(logits):
    keep = np.ones(logits.shape[:-1], dtype=bool)  # built on the host, never moved
    return logits * keep[..., None]


def _vecdot(logits):
    return array_module(logits).vecdot(logits, logits)  # NumPy 2 has vecdot, CuPy does not


def _sum_where(logits):
    return array_module(logits).sum(logits, where=logits > 0)  # CuPy's sum has no where=


PLANTS = {
    "numpy.asarray on a device array": (_host_nan_check, TypeError, "Implicit conversion to a NumPy array"),
    "a host mask in device arithmetic": (_host_mask, TypeError, "Unsupported type <class 'numpy.ndarray'>"),
    "a function CuPy lacks": (_vecdot, AttributeError, "has no attribute 'vecdot'"),
    "a keyword CuPy lacks": (_sum_where, TypeError, "unexpected keyword argument 'where'"),
}


@pytest.mark.parametrize("plant", PLANTS)
def test_each_planted_bug_passes_numpy_and_fails_on_the_stand_in(plant, monkeypatch):
    bug, error, message = PLANTS[plant]
    real = loss_module.cross_entropy_forward

    def planted(logits, *args, **kwargs):
        bug(logits)
        return real(logits, *args, **kwargs)

    _plant(monkeypatch, real, planted)
    _loss_and_grads("numpy")  # NumPy forgives it
    with strict_cupy.installed(), pytest.raises(error, match=message):
        _loss_and_grads("cupy")


def test_the_model_runs_on_the_stand_in_and_agrees_with_numpy_bit_for_bit():
    loss_np, grads_np = _loss_and_grads("numpy")
    with strict_cupy.installed():
        loss_dev, grads_dev = _loss_and_grads("cupy")
        with minatt.use("cupy"):
            model = Seq2Seq(CONFIG, seed=1)
            assert type(model.params["dec.out.W"]).__module__ == "cupy"
            batch = _batch()
            greedy, beam = model.greedy(batch.src, batch.src_mask, 6), model.beam(batch.src, batch.src_mask, 6, 3)
    assert loss_dev == loss_np
    for name in grads_np:
        np.testing.assert_array_equal(grads_dev[name], grads_np[name], err_msg=name)
    with minatt.use("numpy"):
        model = Seq2Seq(CONFIG, seed=1)
        np.testing.assert_array_equal(to_numpy(greedy.tokens), to_numpy(model.greedy(batch.src, batch.src_mask, 6).tokens))
        np.testing.assert_array_equal(to_numpy(beam.tokens), to_numpy(model.beam(batch.src, batch.src_mask, 6, 3).tokens))


# -- the boundary, rule by rule ------------------------------------------------------------------


def test_implicit_conversions_are_refused():
    x = cupy.ones((2, 3))
    for convert in (np.asarray, np.array, np.float32, lambda a: np.asarray(a, dtype=np.float64)):
        with pytest.raises(TypeError, match="Implicit conversion"):
            convert(x)
    with pytest.raises(TypeError, match="not JSON serializable"):
        json.dumps({"loss": cupy.zeros(())})
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    try:
        with pytest.raises(TypeError, match="Implicit conversion"):
            ax.imshow(x)
    finally:
        plt.close(fig)


def test_host_arrays_are_refused_in_arithmetic_and_out():
    x, host = cupy.ones(3), np.ones(3)
    for mix in (lambda: x + host, lambda: host + x, lambda: x * host[0:1], lambda: cupy.where(host > 0, x, 0),
                lambda: cupy.concatenate([x, host]), lambda: cupy.matmul(x, host), lambda: cupy.copyto(x, host),
                lambda: cupy.multiply(x, x, out=host), lambda: x.__iadd__(host)):
        with pytest.raises((TypeError, ValueError)):
            mix()
    # Scalars, Python's and NumPy's, are fine, as in CuPy.
    y = x * 2 + np.float32(1) - np.float64(0.5) / 2.0
    np.testing.assert_array_equal(y.get(), [2.75, 2.75, 2.75])


def test_what_cupy_allows_is_allowed():
    x = cupy.arange(6.0).reshape(2, 3)
    assert float(x[1, 2]) == 5.0 and x[0, 1].item() == 1.0 and int(x.sum()) == 15
    np.testing.assert_array_equal(x[np.array([1, 0])].get(), [[3, 4, 5], [0, 1, 2]])  # host indices are copied over
    x[np.array([0]), np.array([2])] = np.array([9.0])  # a host value through advanced indexing
    x[:] = np.zeros((2, 3))  # the whole array from the host, same shape and dtype
    with pytest.raises(ValueError, match="non-scalar numpy.ndarray cannot be used for fill"):
        x[0] = np.ones(3)  # basic indexing fills from a scalar only
    assert np.sum(x).get() == 0.0  # numpy.f(x) is handed to cupy.f ...
    with pytest.raises(TypeError, match="no implementation found|NotImplemented"):
        np.vecdot(x, x)  # ... and refused where CuPy has no f
    with pytest.raises(TypeError, match="no implementation found"):
        np.insert(x, 0, 1.0)


def test_reductions_and_scalar_indexing_give_0d_device_arrays():
    x = cupy.arange(4.0)
    for r in (x.sum(), x.max(), cupy.argmax(x), cupy.vdot(x, x), x[2], np.mean(x)):
        assert type(r) is cupy.ndarray and r.shape == ()
    with pytest.raises(TypeError):
        [10, 20, 30][cupy.argmax(x)]  # CuPy arrays have no __index__: int() is the explicit sync
    assert [10, 20, 30, 40][int(cupy.argmax(x))] == 40
    assert f"{x.sum():.1f}" == "6.0" and bool(x.sum() > 5)


def test_views_share_memory_and_out_writes_in_place():
    x = cupy.zeros((2, 3))
    x[1][2] = 7.0  # a scalar-index view, then a write through it
    x[0, 1][...] = 5.0  # a 0-d element is a view too, as in CuPy
    x.T[0, 0] = 1.0
    np.testing.assert_array_equal(x.get(), [[1, 5, 0], [0, 0, 7]])
    out = cupy.empty((2, 3))
    assert cupy.add(x, 1.0, out=out) is out and cupy.tanh(x, out=out) is out
    x += 1.0
    assert x.get()[0, 0] == 2.0
    assert cupy.ascontiguousarray(x) is x and x.astype(x.dtype, copy=False) is x


def test_a_view_knows_its_base_as_cupy_does():
    x = cupy.zeros((4, 3))
    v, w, r = x[1:], x[1:].T, x.reshape(12)
    assert x.base is None and v.base is x and w.base is x and r.base is x
    assert v[0].base is x and (x + 1).base is None
    # minatt's memory counts key buffers by id(base): the same bytes on both backends.
    counts = {}
    for name in ("numpy", "cupy"):
        with strict_cupy.installed(), minatt.use(name):
            counts[name] = cache_bytes(Seq2Seq(CONFIG, seed=1), _batch())
    assert counts["cupy"] == counts["numpy"] > 0


def test_add_at_accumulates_repeats_and_get_returns_a_host_copy():
    W = cupy.zeros((3, 2))
    cupy.add.at(W, cupy.asarray([0, 2, 0]), cupy.ones((3, 2)))
    host = W.get()
    np.testing.assert_array_equal(host, [[2, 2], [0, 0], [1, 1]])
    host[0, 0] = -1.0
    assert float(W[0, 0]) == 2.0 and type(host) is np.ndarray and type(cupy.asnumpy(W)) is np.ndarray
    with pytest.raises(TypeError, match="scatter_add only supports"):
        cupy.add.at(cupy.zeros(3, dtype=np.int64), cupy.asarray([0]), 1)


def test_pickle_and_copy_keep_device_arrays_on_the_device():
    import copy

    x = cupy.arange(3.0)
    for y in (pickle.loads(pickle.dumps(x)), copy.deepcopy(x), copy.copy(x)):
        assert type(y) is cupy.ndarray and y is not x
        np.testing.assert_array_equal(y.get(), x.get())


def test_the_module_has_only_its_listed_names():
    with pytest.raises(AttributeError, match="no attribute 'random'"):
        cupy.random  # noqa: B018 - minatt draws on the host; a device generator would break the seeds
    assert cupy.get_array_module(cupy.ones(1), np.ones(1)) is cupy and cupy.get_array_module(np.ones(1)) is np


# -- the stand-in against the real CuPy ------------------------------------------------------------


@pytest.fixture(scope="module")
def real_cupy():
    return pytest.importorskip("cupy", reason="CuPy not installed; pip install 'minatt[test]' brings it")


def test_every_name_exists_in_cupy(real_cupy):
    names = [n for n in vars(cupy) if not n.startswith("_")]
    assert len(names) > 60
    missing = [n for n in names if not hasattr(real_cupy, n)]
    assert not missing, f"the stand-in offers names CuPy lacks: {missing}"
    methods = [m for m in strict_cupy.METHODS if not hasattr(real_cupy.ndarray, m)]
    assert not methods, f"the stand-in's ndarray has methods CuPy's lacks: {methods}"
    assert not hasattr(real_cupy.ndarray, "__index__") and not hasattr(cupy.ndarray, "__index__")


@pytest.mark.parametrize("name", sorted(strict_cupy.FUNCTIONS))
def test_every_keyword_is_in_cupys_signature(name, real_cupy):
    params = strict_cupy.FUNCTIONS[name]
    real = list(inspect.signature(getattr(real_cupy, name)).parameters)
    assert [p for p in params if p not in real] == [], f"cupy.{name}{tuple(real)}"


def test_backend_fixture_runs_cupy_cases_on_a_device_module(backend):
    x = minatt.asarray(np.ones(3))
    assert backend.__name__ == minatt.current() and type(x).__module__.split(".")[0] == backend.__name__
    if backend.__name__ == "cupy":
        with pytest.raises(TypeError, match=IMPLICIT.split(".")[0]):
            np.asarray(x)


# -- no host round trip inside a training step ---------------------------------------------------------

def _training_steps(steps=3, **settings):
    """``steps`` of loss_and_grads + clip + Adam on the stand-in, counting device-to-host transfers."""
    from minatt.optim import Adam, clip_grad_norm

    config = Seq2SeqConfig(src_vocab=CONFIG.src_vocab, tgt_vocab=CONFIG.tgt_vocab, embed=6, hidden=8, **settings)
    batches = [TASK.batch(step, 4) for step in range(steps)]  # host batches, padded (lengths 2 to 5)
    with strict_cupy.installed(), minatt.use("cupy"):
        model = Seq2Seq(config, seed=1)
        opt = Adam(model.params, lr=1e-3)
        with strict_cupy.counting() as seen:
            for batch in batches:
                loss, grads = model.loss_and_grads(batch)
                norm = clip_grad_norm(grads, 1.0)
                opt.step(grads)
        assert loss.shape == () and norm.shape == ()  # both still on the device
        return seen


@pytest.mark.parametrize("settings", [
    {}, {"cell": "gru", "score": "general", "decoder": "luong", "bidirectional": True},
    {"score": "concat", "decoder": "luong", "input_feeding": False}, {"score": "dot"}, {"score": "none"},
    {"encoder": "transformer", "heads": 2},
], ids=["lstm-additive", "gru-general-luong-bi", "concat-luong", "dot", "none", "transformer"])
def test_a_training_step_never_waits_for_the_gpu(settings):
    """loss_and_grads, clip_grad_norm and Adam's step read nothing back to the host: on a GPU the host
    queues step after step and waits only where the trainer reads the loss (at log points)."""
    assert _training_steps(**settings) == {}


def test_the_transfer_count_sees_a_float(monkeypatch):
    """The count above can fail: a float() of the norm, as clip_grad_norm once did, is one transfer a step."""
    from minatt import optim

    original = optim.clip_grad_norm

    def clip_on_the_host(grads, max_norm):
        norm = original(grads, max_norm)
        float(norm)  # the host waits for the GPU
        return norm

    monkeypatch.setattr(optim, "clip_grad_norm", clip_on_the_host)
    assert _training_steps() == {"float": 3}
