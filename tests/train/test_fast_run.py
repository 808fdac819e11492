"""The main job and exact resume, in-process on a tiny PCAM: fast enough for every run.

The slow suite does the same with real subprocesses and larger data; these keep the
default ``-m "not slow"`` run honest about the two promises that matter most.
"""

from __future__ import annotations

import logging
import os
import re
import signal
from pathlib import Path

import pytest
import torch

from ml_core.cli.train import train_main
from ml_core.contract import EXIT_REQUEUE, RunPaths
from tests.metrics_rows import without_timing

from .conftest import read_metrics, run_overrides

STEPS = 12  # 96 train samples in batches of 8


def _settings(data_dir: Path, name: str, *extra: str) -> list[str]:
    return run_overrides(
        data_dir,
        name,
        "model.hidden_units=[8]",
        "training.epochs=3",
        "training.val_every_steps=5",
        "training.log_every_seconds=0",
        *extra,
    )


class _SignalAt(logging.Handler):
    """Sends this process SIGUSR1 when a progress line matches ``pattern``."""

    def __init__(self, pattern: str) -> None:
        super().__init__()
        self.pattern = re.compile(pattern)

    def emit(self, record: logging.LogRecord) -> None:
        if self.pattern.search(record.getMessage()):
            os.kill(os.getpid(), signal.SIGUSR1)


def test_main_job_writes_a_complete_run(
    tiny_pcam_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert train_main(_settings(tiny_pcam_dir, "fast")) == 0
    paths = RunPaths(Path("experiments/results/fast"))
    rows = read_metrics(paths.root)
    assert [row["epoch"] for row in rows] == ["1", "2", "3"]
    for path in (paths.config, paths.environment, paths.validation, paths.curves):
        assert path.is_file(), path
    assert paths.test_metrics.is_file()
    best = torch.load(paths.best_checkpoint, weights_only=True)
    last = torch.load(paths.last_checkpoint, weights_only=True)
    assert (last["epoch"], last["step_in_epoch"]) == (4, 0)
    assert best["input_normalization"] == last["input_normalization"] is not None


AUGMENTED = ("augment.symmetries=true", "augment.brightness=0.1", "augment.hue=0.05")


@pytest.mark.parametrize("extra", [(), AUGMENTED], ids=["plain", "augmented"])
def test_stopped_and_resumed_run_equals_the_uninterrupted_one(
    tiny_pcam_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    extra: tuple[str, ...],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert train_main(_settings(tiny_pcam_dir, "whole", *extra)) == 0
    trigger = _SignalAt(rf"epoch 2/3 step 3/{STEPS} ")
    logging.getLogger("ml_core").addHandler(trigger)
    try:
        args = ["--auto-resume", *_settings(tiny_pcam_dir, "parts", *extra)]
        stopped = train_main(args)
    finally:
        logging.getLogger("ml_core").removeHandler(trigger)
    assert stopped == EXIT_REQUEUE
    last = torch.load(
        "experiments/results/parts/checkpoints/last.pt", weights_only=True
    )
    assert (last["epoch"], last["step_in_epoch"]) == (2, 3)  # one process stops at once
    assert train_main(args) == 0
    whole, parts = Path("experiments/results/whole"), Path("experiments/results/parts")
    assert without_timing(read_metrics(parts)) == without_timing(read_metrics(whole))
    # Every validation pass too (steps 5, 10 and 12 of each epoch), bit for bit.
    assert (parts / "validation.csv").read_text() == (
        whole / "validation.csv"
    ).read_text()
