"""The errors minatt raises for a user's mistake: one line that names the problem and the fix.

The command line catches :class:`MinattError`, prints ``minatt: error: <message>`` and exits
with status 2, without a traceback. Anything else escaping is a bug in minatt.
"""


class MinattError(Exception):
    """Base of every user-facing error; its message is one line and says what to do."""


class ShapeError(MinattError, ValueError):
    """An array has the wrong rank, shape, dtype or backend for the argument it was passed as."""


class ConfigError(MinattError, ValueError):
    """A setting (task, cell, score, size, length, ...) is unknown or impossible."""


class CheckpointError(MinattError):
    """A run directory or checkpoint file is missing, corrupted, unsafe or does not match its config."""


class TrainingDiverged(MinattError):
    """The loss or a gradient became NaN or infinite; the last good checkpoint is kept."""
