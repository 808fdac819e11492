"""The main job: ``ml-train`` with no arguments, in a fresh directory, as a newcomer runs it."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import torch

from .conftest import read_metrics, run_directory_line, run_installed

pytestmark = pytest.mark.slow


def test_no_argument_run_trains_mlp_on_synthetic_pcam(tmp_path: Path) -> None:
    started = time.perf_counter()
    result = run_installed("ml-train", [], tmp_path, timeout=240)
    seconds = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    print(f"no-argument ml-train: {seconds:.1f} s")  # shown with -s, for the README

    run_dir = run_directory_line(result.stdout)
    assert re.fullmatch(r"experiments/results/mlp-synthetic-\d{8}-\d{6}", str(run_dir))
    root = tmp_path / run_dir
    expected = {
        "config.yaml",
        "metrics.csv",
        "env.json",
        "checkpoints/last.pt",
        "checkpoints/best.pt",
        "test_metrics.json",
        "test_predictions.csv",
        "curves.png",
    }
    assert {p for p in expected if (root / p).is_file()} == expected
    assert list((root / "tensorboard").glob("events.out.tfevents.*"))
    assert not [p for p in root.parent.iterdir() if p.name.startswith(".")]

    rows = read_metrics(root)
    assert [row["epoch"] for row in rows] == ["1", "2", "3"]
    assert float(rows[-1]["val_acc"]) >= 0.75

    test_metrics = json.loads((root / "test_metrics.json").read_text())
    assert test_metrics["split"] == "test"
    assert test_metrics["checkpoint"] == "best"
    (tn, fp), (fn, tp) = test_metrics["confusion_matrix"]
    assert tn + fp + fn + tp == test_metrics["num_samples"]
    assert test_metrics["accuracy"] == pytest.approx((tn + tp) / (tn + fp + fn + tp))
    header = (root / "test_predictions.csv").read_text().splitlines()[0]
    assert header == "index,label,prob_positive,prediction"

    environment = json.loads((root / "env.json").read_text())
    assert environment["packages"]["ml-core-train"]
    assert environment["packages"]["torch"] == torch.__version__.split("+")[0]
    assert set(environment["slurm"]) >= {"SLURM_JOB_ID", "SLURM_RESTART_COUNT"}
    assert environment["git"]["commit"] is None  # tmp_path is no git repository
    assert len(environment["data_fingerprint"]) == 6

    last = torch.load(root / "checkpoints/last.pt", weights_only=True)
    assert (last["epoch"], last["step_in_epoch"]) == (4, 0)
    (own,) = last["rank_states"]  # one process: one state, stored once
    assert set(own["rng"]) == {"python", "numpy", "torch", "cuda"}
    assert {"model", "optimizer", "config", "metrics", "validations"} <= set(last)
    assert "rng" not in last
    best = torch.load(root / "checkpoints/best.pt", weights_only=True)
    assert best["epoch"] == max(
        range(1, 4), key=lambda epoch: float(rows[epoch - 1]["val_auroc"])
    )
