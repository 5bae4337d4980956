"""``python -m minatt``: the command line (see :mod:`minatt.cli`)."""

from minatt.cli import main

if __name__ == "__main__":  # (not when a spawned worker process imports this module)
    raise SystemExit(main())
