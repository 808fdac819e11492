"""Fixtures for viz tests: run directories written in the trainer's file format."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

METRICS_HEADER = (
    "epoch,train_loss,train_acc,train_f1,train_auroc,"
    "val_loss,val_acc,val_f1,val_auroc,lr,epoch_seconds,samples_per_second"
)
RunWriter = Callable[..., Path]


def metric_rows(epochs: int, seed: int) -> np.ndarray:
    """Plausible, seed-dependent metrics: one row per epoch, 12 columns."""
    rng = np.random.default_rng(seed)
    epoch = np.arange(1, epochs + 1, dtype=float)
    train_loss = 0.7 * np.exp(-epoch / 3) + 0.2 + rng.uniform(0, 0.05, epochs)
    val_loss = train_loss + rng.uniform(0.02, 0.1, epochs)
    columns = [
        epoch,
        train_loss,
        1 - train_loss / 2,
        1 - train_loss / 1.8,
        1 - train_loss / 3,
        val_loss,
        1 - val_loss / 2,
        1 - val_loss / 1.8,
        1 - val_loss / 3,
        0.001 * 0.5 ** (epoch // 3),
        rng.uniform(5, 6, epochs),
        rng.uniform(900, 1000, epochs),
    ]
    return np.stack(columns, axis=1)


def write_metrics_csv(path: Path, rows: np.ndarray) -> None:
    lines = [METRICS_HEADER]
    lines += [
        ",".join([str(int(row[0])), *map(repr, row[1:].tolist())]) for row in rows
    ]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def write_run() -> RunWriter:
    """``write_run(run_dir, epochs=5, seed=0, config=None)`` -> the run directory."""

    def write(
        run_dir: Path,
        epochs: int = 5,
        seed: int = 0,
        config: dict[str, Any] | None = None,
    ) -> Path:
        run_dir.mkdir(parents=True)
        write_metrics_csv(run_dir / "metrics.csv", metric_rows(epochs, seed))
        if config is None:
            config = {"training": {"epochs": epochs, "learning_rate": 0.001}}
        config = {"experiment_name": run_dir.name, "seed": seed, **config}
        (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
        return run_dir

    return write


@pytest.fixture
def write_evaluated_run(write_run: RunWriter) -> RunWriter:
    """A run with test_metrics.json, test_predictions.csv and env.json too."""

    def write(run_dir: Path, n_test: int = 400, seed: int = 0) -> Path:
        write_run(run_dir, epochs=4, seed=seed)
        rng = np.random.default_rng(seed)
        labels = rng.integers(0, 2, n_test)
        noise = rng.normal(0, 1, n_test)
        # Rounded so that tied scores occur, as they do with real float32 outputs.
        prob = np.round(1 / (1 + np.exp(-(2 * labels - 1) - noise)), 2)
        predicted = (prob >= 0.5).astype(int)
        lines = ["index,label,prob_positive,prediction"]
        lines += [f"{i},{labels[i]},{prob[i]},{predicted[i]}" for i in range(n_test)]
        (run_dir / "test_predictions.csv").write_text("\n".join(lines) + "\n")
        matrix = np.bincount(2 * labels + predicted, minlength=4).reshape(2, 2)
        test_metrics = {
            "split": "test",
            "checkpoint": "best",
            "num_samples": n_test,
            "loss": 0.5,
            "accuracy": float((labels == predicted).mean()),
            "f1": 0.75,
            "auroc": 0.8,
            "confusion_matrix": matrix.tolist(),
        }
        (run_dir / "test_metrics.json").write_text(json.dumps(test_metrics))
        env = {
            "python": "3.11",
            "note": "<b>not bold</b> & co",
            "git": {"dirty": False},
        }
        (run_dir / "env.json").write_text(json.dumps(env))
        return run_dir

    return write
