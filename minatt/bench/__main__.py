"""``python -m minatt.bench ...``: the same as ``python -m minatt bench ...``."""

from minatt.bench.command import main

raise SystemExit(main())
