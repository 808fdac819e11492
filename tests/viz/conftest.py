"""Fixtures for viz tests: run directories written in the trainer's file format."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from ml_core.contract import METRIC_COLUMNS
from tests.conftest import write_pcam_split

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


def write_metrics_csv(
    path: Path, rows: np.ndarray, warnings: dict[int, str] | None = None
) -> None:
    """Without ``warnings``: the layout of runs from before the collapse detector.

    With them: every column of the contract, including the collapse diagnostics and
    the warning text (``{epoch: text}``; other epochs get an empty cell).
    """
    header = METRICS_HEADER
    cells = [[str(int(row[0])), *map(repr, row[1:].tolist())] for row in rows]
    if warnings is not None:
        header = ",".join(METRIC_COLUMNS)
        by_name = [
            dict(zip(METRICS_HEADER.split(","), row, strict=True)) for row in cells
        ]
        for named in by_name:
            named.update(val_prob_std="0.3", val_dead_units="0.0")
            named["warning"] = warnings.get(int(named["epoch"]), "")
        cells = [[named[name] for name in METRIC_COLUMNS] for named in by_name]
    lines = [header, *(",".join(row) for row in cells)]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def write_run() -> RunWriter:
    """``write_run(run_dir, epochs=5, seed=0, config=None, warnings=None)`` -> the run
    directory (``warnings``: see :func:`write_metrics_csv`)."""

    def write(
        run_dir: Path,
        epochs: int = 5,
        seed: int = 0,
        config: dict[str, Any] | None = None,
        warnings: dict[int, str] | None = None,
    ) -> Path:
        run_dir.mkdir(parents=True)
        write_metrics_csv(run_dir / "metrics.csv", metric_rows(epochs, seed), warnings)
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


def class_patches(rng: np.random.Generator, labels: np.ndarray) -> np.ndarray:
    """uint8 patches whose brightness depends on the class (tumour is darker)."""
    base = np.where(labels == 1, 120, 180)[:, None, None, None]
    noise = rng.integers(-60, 60, size=(len(labels), 96, 96, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


@pytest.fixture(scope="session")
def pcam_80_20(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """uint8 PCAM directory whose train split is 80 % normal / 20 % tumour."""
    data_dir = tmp_path_factory.mktemp("pcam_80_20")
    rng = np.random.default_rng(0)
    for split, size in (("train", 1000), ("valid", 64), ("test", 48)):
        labels = rng.permutation(np.r_[np.zeros(size * 4 // 5), np.ones(size // 5)])
        labels = labels.astype(np.int64)
        images = class_patches(rng, labels)
        write_pcam_split(data_dir, split, images, labels, chunks=(8, 96, 96, 3))
    return data_dir


# Poisoned patches of the course-style float32 train split, by index.
POISON = {"nan": 3, "over_255": 5, "all_0": 7, "all_255": 9}


@pytest.fixture(scope="session")
def pcam_course_float(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, int]]:
    """float32 PCAM directory (no test split) with one patch of each outlier kind.

    Returns the directory and the train index of each poisoned patch.
    """
    data_dir = tmp_path_factory.mktemp("pcam_float")
    rng = np.random.default_rng(1)
    for split, size in (("train", 40), ("valid", 16)):
        labels = np.arange(size) % 2
        images = class_patches(rng, labels).astype(np.float32)
        if split == "train":
            images[POISON["nan"], 10:20, 10:20, 0] = np.nan
            images[POISON["over_255"], 0, 0, :] = 1e5
            images[POISON["all_0"]] = 0
            images[POISON["all_255"]] = 255
        write_pcam_split(data_dir, split, images, labels, chunks=(8, 96, 96, 3))
    return data_dir, POISON
