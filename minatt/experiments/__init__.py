"""Experiments that test the usual claims about attention, with the numbers and figures they produce.

    python -m minatt experiment lengths     accuracy against source length: no attention vs scores
    python -m minatt experiment cost        time and memory of the score functions as S grows
    python -m minatt experiment all         both

Each writes ``10_<name>.json`` (every number, the settings, the command) and ``10_<name>.png``
into ``--out`` (default ``lessons/figures``, where chapter 10 reads them). ``--small`` runs a
seconds-long version with the same code path (the tests run it) and writes to
``runs/experiment-small`` unless ``--out`` says otherwise, so it never overwrites the committed
figures.

One module per experiment:

    lengths   accuracy against source length (LengthsConfig, run_lengths, lengths_figure)
    cost      time and memory of the score ops and of whole steps (CostConfig, run_cost, cost_figure)
    common    where results go, colours, figures, the JSON + PNG writer
    command   the ``experiment`` command of ``python -m minatt``
"""

from minatt.experiments.command import add_parser, main, run
from minatt.experiments.cost import SMALL_COST, CostConfig, cache_bytes, cost_figure, model_batch, run_cost, score_cost
from minatt.experiments.lengths import SMALL_LENGTHS, VARIANTS, LengthsConfig, lengths_figure, run_lengths

__all__ = ["SMALL_COST", "SMALL_LENGTHS", "VARIANTS", "CostConfig", "LengthsConfig", "add_parser", "cache_bytes",
           "cost_figure", "lengths_figure", "main", "model_batch", "run", "run_cost", "run_lengths", "score_cost"]
