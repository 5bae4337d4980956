"""Gradient-check cases for every op, registered with :func:`minatt.gradcheck.register`.

Importing this package registers them all; ``python -m minatt gradcheck`` sweeps the registry.
One module per family of ops, beside the ops they check.
"""

import importlib
import pkgutil
from typing import Any

import numpy

from minatt.backend import asarray


def padding_mask(rng: numpy.random.Generator, N: int, L: int, special: tuple[int, ...],
                 shuffle: bool = False) -> Any:
    """A right-padded (N, L) bool mask on the current backend, for the cases' padding paths.

    Row lengths are drawn from 0..L; the first rows get the lengths in ``special`` instead (say
    0, 1 and L: a fully padded row, a length-1 row and a full one); ``shuffle`` then permutes
    the rows. (Defined before the imports below: the case modules use it.)
    """
    lengths = rng.integers(0, L + 1, size=N)
    lengths[:len(special)] = special[:N]
    if shuffle:
        lengths = rng.permutation(lengths)
    return asarray(numpy.arange(L)[None, :] < lengths[:, None])  # (N, L)


for _info in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_info.name}")
