"""Exact resume and determinism, with real ``ml-train`` processes and a real SIGUSR1.

Three runs of one config, one after the other: A (num_workers 0), B (num_workers 2,
started with --auto-resume where no run exists) and C (num_workers 0, stopped by SIGUSR1
in the middle of epoch 2, then continued with --auto-resume). Every non-timing column of their
metrics.csv must be identical.
"""

from __future__ import annotations

import re
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from ml_core.cli.train import train_main as ml_train_main
from ml_core.contract import EXIT_REQUEUE as REQUEUE_EXIT_CODE
from tests.metrics_rows import without_timing

from .conftest import (
    cli,
    read_metrics,
    run_cli,
    run_directory_line,
    small_run_overrides,
)

pytestmark = pytest.mark.slow

# Mid-epoch validation on (every 16 of 64 steps): resume must stay exact with it.
VALIDATE_OFTEN = "training.val_every_steps=16"
# The plain progress line (stderr is not a terminal) that triggers the signal.
TRIGGER = re.compile(r"epoch 2/3 step 5/64 ")
STOPPED = re.compile(r"stopped by SIGUSR1 at epoch (\d+) step (\d+)/(\d+)")


@dataclass
class Runs:
    cwd: Path
    reference: subprocess.CompletedProcess[str]
    workers: subprocess.CompletedProcess[str]
    interrupted_code: int
    interrupted_stderr: str
    stopped_checkpoint: dict
    resumed: subprocess.CompletedProcess[str]


def _interrupt_at_trigger(args: list[str], cwd: Path) -> tuple[int, str]:
    """Start ml-train, send SIGUSR1 when the trigger line appears, wait for exit."""
    process = subprocess.Popen(
        [cli("ml-train"), *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = []
    assert process.stderr is not None
    for line in process.stderr:
        lines.append(line)
        if TRIGGER.search(line):
            process.send_signal(signal.SIGUSR1)
            break
    _, rest = process.communicate(timeout=120)
    return process.returncode, "".join(lines) + rest


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, train_data_dir: Path) -> Runs:
    cwd = tmp_path_factory.mktemp("resume")
    args_c = small_run_overrides(train_data_dir, "C", VALIDATE_OFTEN)
    reference = run_cli(
        "ml-train", small_run_overrides(train_data_dir, "A", VALIDATE_OFTEN), cwd
    )
    workers = run_cli(
        "ml-train",
        [
            "--auto-resume",
            *small_run_overrides(
                train_data_dir, "B", VALIDATE_OFTEN, "data.num_workers=2"
            ),
        ],
        cwd,
    )
    code, stderr = _interrupt_at_trigger(args_c, cwd)
    last = cwd / "experiments/results/C/checkpoints/last.pt"
    stopped = torch.load(last, weights_only=True) if last.exists() else {}
    resumed = run_cli("ml-train", ["--auto-resume", *args_c], cwd)
    return Runs(cwd, reference, workers, code, stderr, stopped, resumed)


def test_sigusr1_mid_epoch_checkpoints_and_exits_75(runs: Runs) -> None:
    assert runs.interrupted_code == REQUEUE_EXIT_CODE == 75, runs.interrupted_stderr
    match = STOPPED.search(runs.interrupted_stderr)
    assert match, runs.interrupted_stderr
    epoch, step, steps = map(int, match.groups())
    assert epoch == 2
    assert 5 <= step < steps
    checkpoint = runs.stopped_checkpoint
    assert (checkpoint["epoch"], checkpoint["step_in_epoch"]) == (epoch, step)
    assert len(checkpoint["metrics"]) == 1
    # Cosine over 3 epochs: epoch 1 ran at the full rate (the schedule is computed
    # from the position, so there is no scheduler state to save).
    assert checkpoint["metrics"][0]["lr"] == 0.0003
    progress = re.compile(
        r"epoch 1/3 step 1/64 loss \d+\.\d{4} samples/s \d+ ETA \d+:\d\d:\d\d"
    )
    assert progress.search(runs.interrupted_stderr)
    counts = checkpoint["rank_states"][0]["train_accumulator"]["counts"]
    assert int(counts.sum()) == step * 8


def test_resumed_run_equals_uninterrupted_run(runs: Runs) -> None:
    assert runs.reference.returncode == 0, runs.reference.stderr
    assert runs.resumed.returncode == 0, runs.resumed.stderr
    assert "resuming" in runs.resumed.stderr
    reference = read_metrics(runs.cwd / "experiments/results/A")
    resumed = read_metrics(runs.cwd / "experiments/results/C")
    assert [row["epoch"] for row in resumed] == ["1", "2", "3"]
    assert without_timing(resumed) == without_timing(reference)
    validations = [
        (runs.cwd / f"experiments/results/{name}/validation.csv").read_text()
        for name in ("A", "C")
    ]
    assert validations[0].count("\n") == 1 + 3 * 4  # header + 4 passes per epoch
    assert validations[1] == validations[0]


def test_two_runs_and_worker_counts_give_identical_metrics(runs: Runs) -> None:
    assert runs.workers.returncode == 0, runs.workers.stderr
    assert "resuming" not in runs.workers.stderr  # --auto-resume started fresh
    reference = read_metrics(runs.cwd / "experiments/results/A")
    with_workers = read_metrics(runs.cwd / "experiments/results/B")
    assert without_timing(with_workers) == without_timing(reference)
    # Dropout noise makes every epoch's loss different: equal rows are no accident.
    assert len({row["train_loss"] for row in reference}) == 3
    assert len({row["lr"] for row in reference}) == 3  # the cosine schedule ran


def test_run_directory_is_printed_last(runs: Runs) -> None:
    assert run_directory_line(runs.reference.stdout) == Path("experiments/results/A")
    assert run_directory_line(runs.resumed.stdout) == Path("experiments/results/C")


def test_existing_run_is_refused_untouched(
    runs: Runs,
    train_data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_dir = runs.cwd / "experiments/results/A"
    before = {path: path.read_bytes() for path in run_dir.rglob("*") if path.is_file()}
    monkeypatch.chdir(runs.cwd)
    assert ml_train_main(small_run_overrides(train_data_dir, "A", VALIDATE_OFTEN)) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1
    assert "already exists" in error[0]
    assert "--resume experiments/results/A" in error[0]
    after = {path: path.read_bytes() for path in run_dir.rglob("*") if path.is_file()}
    assert after == before


def test_auto_resume_with_changed_config_is_refused(
    runs: Runs,
    train_data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(runs.cwd)
    args = small_run_overrides(train_data_dir, "A", VALIDATE_OFTEN, "training.epochs=4")
    assert ml_train_main(["--auto-resume", *args]) == 2
    error = capsys.readouterr().err.strip()
    assert "training.epochs" in error
    assert "config.yaml" in error


def test_auto_resume_of_a_finished_run_changes_no_metrics(
    runs: Runs,
    train_data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_dir = runs.cwd / "experiments/results/A"
    metrics = (run_dir / "metrics.csv").read_bytes()
    last = (run_dir / "checkpoints/last.pt").read_bytes()
    monkeypatch.chdir(runs.cwd)
    args = small_run_overrides(train_data_dir, "A", VALIDATE_OFTEN)
    assert ml_train_main(["--auto-resume", *args]) == 0
    assert capsys.readouterr().out.endswith("run directory: experiments/results/A\n")
    assert (run_dir / "metrics.csv").read_bytes() == metrics
    assert (run_dir / "checkpoints/last.pt").read_bytes() == last
