"""minatt.train.interrupt: the first Ctrl-C asks the loop to stop, the second stops at once."""

from __future__ import annotations

import signal
import threading

import pytest

from minatt.train.interrupt import SigintFlag


def test_the_first_sigint_sets_the_flag_and_the_second_interrupts():
    before = signal.getsignal(signal.SIGINT)
    with SigintFlag() as stop:
        assert not stop.requested
        signal.raise_signal(signal.SIGINT)
        assert stop.requested  # the loop sees it between steps
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before  # given back


def test_outside_the_main_thread_it_installs_nothing():
    seen = []

    def work():
        with SigintFlag() as stop:
            seen.append((stop.requested, signal.getsignal(signal.SIGINT)))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen == [(False, signal.getsignal(signal.SIGINT))]  # (Python delivers signals to the main thread)
