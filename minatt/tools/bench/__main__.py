"""``python -m minatt.tools.bench ...``: the same as ``python -m minatt bench ...``."""

from minatt.tools.bench.bench_command import main

raise SystemExit(main())
