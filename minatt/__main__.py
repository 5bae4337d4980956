"""``python -m minatt``: the command line (see :mod:`minatt.cli`)."""

from minatt.cli import main

raise SystemExit(main())
