"""Ctrl-C during training: the first one asks the loop to stop after the current step."""

from __future__ import annotations

import signal
import threading
from typing import Any

__all__ = ["SigintFlag"]


class SigintFlag:
    """While installed, SIGINT sets ``requested`` (checked between steps); a second SIGINT raises KeyboardInterrupt.

    ``with SigintFlag() as stop:`` installs it for the block. Installed only in the main thread
    (the only one Python delivers signals to).
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None
        self._installed = False

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def install(self) -> None:
        """Take over SIGINT."""
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True

    def restore(self) -> None:
        """Give SIGINT back to its previous handler."""
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False

    def __enter__(self) -> SigintFlag:
        self.install()
        return self

    def __exit__(self, *exc: object) -> None:
        self.restore()
