"""SIGKILL at 20 seeded random moments, each followed by ``--auto-resume``: no loss.

Nothing can catch SIGKILL, so this is what atomic writes, the staging directory and
exact resume are for: whatever the moment (starting up, mid-epoch, writing a checkpoint
or the CSV, finishing), the run that finally completes has the metrics of one that was
never interrupted.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from ml_core.cli.train import train_main

from .conftest import cli, read_metrics, run_overrides, without_timing

KILLS = 20


def _args(data_dir: Path, name: str) -> list[str]:
    settings = (
        "model.hidden_units=[8]",
        "training.epochs=12",
        "training.val_every_steps=5",
    )
    return ["--auto-resume", *run_overrides(data_dir, name, *settings)]


@pytest.mark.slow
def test_kill_9_at_random_moments_loses_nothing(
    tiny_pcam_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert train_main(_args(tiny_pcam_dir, "reference")) == 0
    moments = random.Random(20261203)
    kills = attempts = 0
    while kills < KILLS:
        attempts += 1
        assert attempts < 3 * KILLS, "the run kept finishing before its kill"
        process = subprocess.Popen(
            [cli("ml-train"), *_args(tiny_pcam_dir, "killed")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Start-up (importing torch) takes ~2-3 s here, a run of 12 epochs ~3 s more:
        # most kills land mid-run, some while starting or finishing.
        try:
            _, stderr = process.communicate(timeout=moments.uniform(1.5, 4.5))
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            kills += 1
            continue
        # Finished before its kill; later starts resume the complete run (and are
        # killed while starting up or redoing the test evaluation).
        assert process.returncode == 0, stderr
    final = subprocess.run(
        [cli("ml-train"), *_args(tiny_pcam_dir, "killed")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert final.returncode == 0, final.stderr
    results = tmp_path / "experiments/results"
    reference, killed = results / "reference", results / "killed"
    assert without_timing(read_metrics(killed)) == without_timing(
        read_metrics(reference)
    )
    assert (killed / "validation.csv").read_text() == (
        reference / "validation.csv"
    ).read_text()
    assert (killed / "test_metrics.json").read_text() == (
        reference / "test_metrics.json"
    ).read_text()
    assert sorted(path.name for path in results.iterdir()) == ["killed", "reference"]
    print(f"{kills} kills in {attempts} starts")
