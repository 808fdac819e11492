"""Stop signals only set the stop flag inside the block (real signals)."""

from __future__ import annotations

import os
import signal

import pytest

from ml_core.train._stop_signals import StopFlag, catch_stop_signals


@pytest.mark.parametrize(
    "signum", [signal.SIGUSR1, signal.SIGTERM, signal.SIGHUP, signal.SIGINT]
)
def test_signal_sets_flag_and_handlers_are_restored(signum: signal.Signals) -> None:
    before = signal.getsignal(signum)
    with catch_stop_signals(StopFlag()) as flag:
        assert not flag.requested
        os.kill(os.getpid(), signum)  # handled before the next line runs
        assert flag.requested
        assert flag.signal_name == signum.name
    assert signal.getsignal(signum) is before


def test_a_second_ctrl_c_quits_at_once() -> None:
    # Whatever was there before comes back: the default handler, or SIG_IGN where the
    # suite was started in the background by a non-interactive shell.
    before = signal.getsignal(signal.SIGINT)
    with catch_stop_signals(StopFlag()) as flag:
        os.kill(os.getpid(), signal.SIGINT)
        assert flag.signal_name == "SIGINT"
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before
