"""``python -m minatt.exercises ...``: the same as ``python -m minatt exercise ...``."""

from minatt.exercises.exercise_command import main

raise SystemExit(main())
