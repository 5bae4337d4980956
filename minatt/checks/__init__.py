"""Gradient-check cases for every op, registered with :func:`minatt.gradcheck.register`.

Importing this package registers them all; ``python -m minatt gradcheck`` sweeps the registry.
One module per family of ops, beside the ops they check.
"""

import importlib
import pkgutil

for _info in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_info.name}")
