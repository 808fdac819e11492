"""The course facades ``ml_core.solver`` and ``ml_core.utils`` with course config dicts."""

from __future__ import annotations

import csv
import logging
import random
from pathlib import Path

import pytest
import torch
import yaml

from ml_core.data import get_dataloaders
from ml_core.models import MLP
from ml_core.solver import Trainer
from ml_core.train import load_checkpoint
from ml_core.utils import ExperimentTracker, load_config, seed_everything, setup_logger

COURSE_YAML = Path(__file__).resolve().parents[2] / "configs" / "course.yaml"


def test_load_config_returns_the_course_dict() -> None:
    config = load_config(COURSE_YAML)
    assert config["experiment_name"] == "mlp_pcam_baseline"
    assert config["model"]["hidden_units"] == [64, 32]


def test_seed_everything_repeats_draws() -> None:
    seed_everything(7)
    first = (random.random(), torch.rand(2).tolist())
    seed_everything(7)
    assert (random.random(), torch.rand(2).tolist()) == first


def test_setup_logger_adds_one_handler() -> None:
    logger = setup_logger("ml_core.test_facades")
    assert setup_logger("ml_core.test_facades") is logger
    assert len(logger.handlers) == 1
    assert logger.level == logging.INFO


def test_experiment_tracker_writes_csv_config_and_tensorboard(tmp_path: Path) -> None:
    tracker = ExperimentTracker("course", {"seed": 1}, base_dir=tmp_path)
    tracker.log_metrics(1, {"train_loss": 0.5, "val_loss": 0.25})
    tracker.log_metrics(2, {"train_loss": 0.4, "val_loss": 0.2})
    tracker.close()
    run_dir = tmp_path / "course"
    with (run_dir / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [
        {"epoch": "1", "train_loss": "0.5", "val_loss": "0.25"},
        {"epoch": "2", "train_loss": "0.4", "val_loss": "0.2"},
    ]
    assert yaml.safe_load((run_dir / "config.yaml").read_text()) == {"seed": 1}
    assert list((run_dir / "tensorboard").glob("events.out.tfevents.*"))
    assert tracker.get_checkpoint_path("x.pt") == str(run_dir / "x.pt")


@pytest.mark.slow
def test_solver_trainer_fits_with_a_course_config(
    tmp_path: Path, tiny_pcam_dir: Path
) -> None:
    config = load_config(COURSE_YAML)
    config["data"].update(data_path=str(tiny_pcam_dir), num_workers=0)
    config["training"].update(epochs=2, save_dir=str(tmp_path))
    seed_everything(config["seed"])
    train_loader, val_loader = get_dataloaders(config)
    model = MLP(
        config["data"]["input_shape"],
        config["model"]["hidden_units"],
        dropout_rate=config["model"]["dropout_rate"],
    )
    optimizer = torch.optim.Adam(
        model.parameters(), lr=config["training"]["learning_rate"]
    )
    trainer = Trainer(model, optimizer, config, "cpu")

    history = trainer.fit(train_loader, val_loader)

    assert [row["epoch"] for row in history] == [1, 2]
    assert set(history[0]) >= {"train_loss", "val_loss", "val_acc", "val_auroc", "lr"}
    run_dir = tmp_path / "mlp_pcam_baseline"
    with (run_dir / "metrics.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) == 2
    checkpoint = load_checkpoint(run_dir / "checkpoints" / "epoch_2.pt")
    assert checkpoint["epoch"] == 2
    assert checkpoint["val_loss"] == history[-1]["val_loss"]
    assert torch.load(run_dir / "checkpoints" / "epoch_1.pt", weights_only=True)
    assert trainer.validate(val_loader, 2) == pytest.approx(history[-1]["val_loss"])
