"""Experiments that test the usual claims about attention, with the numbers and figures they produce.

    python -m minatt experiment lengths     accuracy against source length: no attention vs scores
    python -m minatt experiment cost        time and memory of the score functions as S grows
    python -m minatt experiment alignment   accuracy and alignment of each score as sources get corrupted
    python -m minatt experiment pretrain    pretraining by reconstruction vs scratch on a small labelled set
    python -m minatt experiment all         every one

Each writes ``10_<name>.json`` (every number, the settings, the command) and ``10_<name>.png``
into ``--out`` (default ``runs/experiment``; chapter 10 reads the copies committed in
``lessons/figures``). ``--small`` runs a
version of under 30 seconds with the same code path (the tests run it or smaller) and writes to
``runs/experiment-small`` unless ``--out`` says otherwise, so it never overwrites the committed
figures.

Each JSON holds the design (hypothesis, comparison, rule, minimum detectable effect), written
before the first run; the results; and the verdict, computed by applying the rule. Every finished
run is kept in ``10_<name>.runs/`` beside them: the same command on the same ``--out`` resumes an
interrupted experiment, and ``--jobs N`` runs N at once.

One module per experiment:

    lengths    accuracy against source length (LengthsConfig, run_lengths, lengths_figure)
    cost       time and memory of the score ops and of whole steps (CostConfig, run_cost, cost_figure)
    alignment  alignment errors: trained clean, tested corrupted, both decoders (AlignmentConfig, run_alignment)
    pretrain   denoise pretraining, then a small labelled set (PretrainConfig, run_pretrain)
    universal  whether an additive score can stand in for the general one (UniversalConfig, run_universal)
    alignment_figures  the alignment experiment's figures
    common     where results go, colours, figures, the JSON + PNG writer, training, per-example scores
    runs       finished runs kept on disk, and run in parallel processes (RunStore, run_jobs)
    stats      intervals over seeds and test examples, the minimum detectable effect, verdicts
    experiment_command  the ``experiment`` command of ``python -m minatt``
"""

from minatt.experiments.alignment import SMALL_ALIGNMENT, AlignmentConfig, run_alignment
from minatt.experiments.common import interval, train_model
from minatt.experiments.experiment_command import add_parser, main, run
from minatt.experiments.lengths import SMALL_LENGTHS, VARIANTS, LengthsConfig, lengths_figure, run_lengths
from minatt.experiments.pretrain import SMALL_PRETRAIN, PretrainConfig, run_pretrain

_COST = ("SMALL_COST", "CostConfig", "cache_bytes", "cost_figure", "model_batch", "run_cost", "score_cost")


def __getattr__(name: str) -> object:
    """The cost experiment's names, imported when first used (it needs matplotlib at import; the others do not)."""
    if name in _COST:
        from minatt.experiments import cost

        return getattr(cost, name)
    raise AttributeError(f"module 'minatt.experiments' has no attribute {name!r}")


__all__ = ["SMALL_ALIGNMENT", "SMALL_COST", "SMALL_LENGTHS", "SMALL_PRETRAIN", "VARIANTS", "AlignmentConfig",
           "CostConfig", "LengthsConfig", "PretrainConfig", "add_parser", "cache_bytes", "cost_figure", "interval",
           "lengths_figure", "main", "model_batch", "run", "run_alignment", "run_cost", "run_lengths", "run_pretrain",
           "score_cost", "train_model"]
