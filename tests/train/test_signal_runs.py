"""Every stop signal through a whole ``ml-train`` run, in-process with real signals.

A logging handler sends the signal when a given line is logged, so it lands at a known
point: a step of epoch 1, or the epoch summary just before the run finishes.
"""

from __future__ import annotations

import logging
import os
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch

from ml_core.cli.train import train_main
from ml_core.contract import EXIT_INTERRUPTED, EXIT_REQUEUE

from .conftest import run_overrides


def _settings(data_dir: Path) -> list[str]:
    settings = (
        "model.hidden_units=[8]",
        "training.epochs=1",
        "training.log_every_seconds=0",
    )
    return ["--auto-resume", *run_overrides(data_dir, "run", *settings)]


class _SignalOn(logging.Handler):
    def __init__(self, pattern: str, signum: int, times: int = 1) -> None:
        super().__init__()
        self.pattern, self.signum, self.left = re.compile(pattern), signum, times

    def emit(self, record: logging.LogRecord) -> None:
        if self.left and self.pattern.search(record.getMessage()):
            self.left -= 1
            os.kill(os.getpid(), self.signum)


@contextmanager
def _signal_on(pattern: str, signum: int, times: int = 1) -> Iterator[None]:
    handler = _SignalOn(pattern, signum, times)
    logging.getLogger("ml_core").addHandler(handler)
    try:
        yield
    finally:
        logging.getLogger("ml_core").removeHandler(handler)


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path / "experiments/results/run"


@pytest.mark.parametrize(
    ("signum", "code"),
    [(signal.SIGINT, EXIT_INTERRUPTED), (signal.SIGHUP, EXIT_REQUEUE)],
    ids=["ctrl-c", "hangup"],
)
def test_first_signal_checkpoints_at_the_step(
    tiny_pcam_dir: Path, in_tmp: Path, signum: int, code: int
) -> None:
    with _signal_on(r"epoch 1/1 step 3/12 ", signum):
        assert train_main(_settings(tiny_pcam_dir)) == code
    last = torch.load(in_tmp / "checkpoints/last.pt", weights_only=True)
    assert (last["epoch"], last["step_in_epoch"]) == (1, 3)
    assert train_main(_settings(tiny_pcam_dir)) == 0


def test_a_second_ctrl_c_quits_without_a_new_checkpoint(
    tiny_pcam_dir: Path, in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The second Ctrl-C comes while the first is being handled (on its own warning).
    with (
        _signal_on(r"epoch 1/1 step 3/12 ", signal.SIGINT),
        _signal_on(r"SIGINT received", signal.SIGINT),
    ):
        assert train_main(_settings(tiny_pcam_dir)) == EXIT_INTERRUPTED
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "ml-train: error: interrupted twice: stopped without a checkpoint of this "
        "step; checkpoints/last.pt from before is kept"
    )
    last = torch.load(in_tmp / "checkpoints/last.pt", weights_only=True)
    assert (last["epoch"], last["step_in_epoch"]) == (1, 0)  # the run's first


def test_sigterm_while_finishing_leaves_a_resumable_run(
    tiny_pcam_dir: Path, in_tmp: Path
) -> None:
    with _signal_on(r"epoch 1/1: train loss", signal.SIGTERM):
        assert train_main(_settings(tiny_pcam_dir)) == EXIT_REQUEUE
    assert not (in_tmp / "test_metrics.json").exists()  # stopped before evaluating
    metrics = (in_tmp / "metrics.csv").read_text()
    assert train_main(_settings(tiny_pcam_dir)) == 0  # the requeued job finishes it
    assert (in_tmp / "test_metrics.json").is_file()
    assert (in_tmp / "curves.png").is_file()
    assert (in_tmp / "metrics.csv").read_text() == metrics  # no epoch trained twice
