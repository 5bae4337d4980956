"""``python -m minatt.experiments ...``: the same as ``python -m minatt experiment ...``."""

from minatt.experiments.experiment_command import main

raise SystemExit(main())
