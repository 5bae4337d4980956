"""minatt: attention-based seq2seq from scratch, every gradient written by hand and checked.

Start with :func:`use` to pick a backend (``"numpy"`` or ``"cupy"``); the ops live in
:mod:`minatt.ops`, the gradient checker in :mod:`minatt.gradcheck`.
"""

from minatt.backend import (
    BackendError,
    asarray,
    current,
    default_dtype,
    get_default_dtype,
    set_default_dtype,
    to_numpy,
    use,
)

__version__ = "0.1.0"

__all__ = [
    "BackendError",
    "asarray",
    "current",
    "default_dtype",
    "get_default_dtype",
    "set_default_dtype",
    "to_numpy",
    "use",
    "__version__",
]
