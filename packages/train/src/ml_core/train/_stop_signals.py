"""Stop-signal handling: a signal only sets a flag, checked by the loop after every step,
so a stop lands on a step boundary with a consistent state to checkpoint."""

from __future__ import annotations

import contextlib
import logging
import signal
from collections.abc import Iterator
from types import FrameType

logger = logging.getLogger(__name__)

# SIGUSR1: Slurm's warning before the time limit; SIGTERM: the limit (or scancel);
# SIGHUP: the terminal went away (ssh dropped); SIGINT: Ctrl-C.
STOP_SIGNALS = (signal.SIGUSR1, signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


class StopFlag:
    """Set by a stop signal, or by the loop when the loss diverges; read by the loop."""

    def __init__(self) -> None:
        self.signal_name: str | None = None
        self.divergence: str | None = None

    @property
    def requested(self) -> bool:
        return self.signal_name is not None or self.divergence is not None

    def diverge(self, reason: str) -> None:
        """Stop because training went numerically wrong (``reason`` says where)."""
        if self.divergence is None:
            self.divergence = reason

    def poll(self, *, sync: bool = True) -> bool:
        """Whether to stop now. Data-parallel ranks (:class:`SharedStopFlag`) agree
        only where ``sync`` is set, the steps every rank passes together."""
        del sync  # one process: its own flag is the whole answer
        return self.requested


@contextlib.contextmanager
def catch_stop_signals(flag: StopFlag) -> Iterator[StopFlag]:
    """Route :data:`STOP_SIGNALS` to ``flag`` inside the block (a second Ctrl-C
    raises KeyboardInterrupt at once), then restore the handlers."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if name == "SIGINT" and flag.signal_name == "SIGINT":
            raise KeyboardInterrupt
        first = not flag.requested
        flag.signal_name = name  # before logging: a second signal may arrive during it
        if first:
            hint = " (Ctrl-C again to quit at once)" if name == "SIGINT" else ""
            logger.warning("%s received: stopping after the current step%s", name, hint)

    previous = {sig: signal.signal(sig, handle) for sig in STOP_SIGNALS}
    try:
        yield flag
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
