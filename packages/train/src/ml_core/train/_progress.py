"""What a run tells the user: log lines on stderr (the course's ``setup_logger``), and
training progress as a tqdm bar on a terminal, else log lines with the run's ETA."""

from __future__ import annotations

import logging
import sys
import time
from datetime import timedelta

import torch
from tqdm import tqdm

logger = logging.getLogger(__name__)
BAR_LOSS_SECONDS = 0.5
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _CurrentStderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at emit time (test capture, redirects)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def setup_logger(name: str = "ml_core", level: int = logging.INFO) -> logging.Logger:
    """The logger ``name`` writing to stderr; adds its handler only once."""
    named = logging.getLogger(name)
    named.setLevel(level)
    if not named.handlers:
        handler = _CurrentStderrHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT, "%Y-%m-%d %H:%M:%S"))
        named.addHandler(handler)
    return named


class ProgressReporter:
    """Reports train steps; one per run, :meth:`start_epoch` per epoch. ``processes``:
    data-parallel ranks, so samples/s is the whole run's."""

    def __init__(
        self,
        *,
        epochs: int,
        steps_per_epoch: int,
        log_every_seconds: float,
        use_bar: bool | None = None,
        processes: int = 1,
    ) -> None:
        self.epochs = epochs
        self.processes = processes
        self.steps_per_epoch = steps_per_epoch
        self.log_every_seconds = log_every_seconds
        self.use_bar = sys.stderr.isatty() if use_bar is None else use_bar
        self._bar: tqdm | None = None
        self._session_start = time.perf_counter()
        self._session_steps = 0
        self._session_samples = 0
        self._last_log = float("-inf")
        self._epoch = 0

    def start_epoch(self, epoch: int, first_step: int) -> None:
        self._epoch = epoch
        if self.use_bar:
            self._bar = tqdm(
                total=self.steps_per_epoch,
                initial=first_step,
                desc=f"epoch {epoch}/{self.epochs}",
                unit="step",
                leave=False,
            )

    def step(self, step: int, loss: torch.Tensor | float, batch_size: int) -> None:
        """``step`` (1-based) ended with ``loss``, read (a sync) only when shown."""
        self._session_steps += 1
        self._session_samples += batch_size * self.processes
        now = time.perf_counter()
        # The bar refreshes itself; its loss is updated twice a second at most.
        interval = BAR_LOSS_SECONDS if self._bar is not None else self.log_every_seconds
        if self._bar is not None:
            self._bar.update(1)
        if now - self._last_log < interval:
            return
        self._last_log = now
        if self._bar is not None:
            self._bar.set_postfix(loss=f"{float(loss):.4f}", refresh=False)
            return
        elapsed = now - self._session_start
        remaining = (self.epochs - self._epoch + 1) * self.steps_per_epoch - step
        logger.info(
            "epoch %d/%d step %d/%d loss %.4f samples/s %.0f ETA %s",
            self._epoch,
            self.epochs,
            step,
            self.steps_per_epoch,
            float(loss),
            self._session_samples / elapsed if elapsed > 0 else 0.0,
            timedelta(seconds=round(elapsed / self._session_steps * remaining)),
        )

    def end_epoch(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
