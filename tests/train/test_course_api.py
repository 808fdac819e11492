"""The course skeleton's module paths and shapes (SURF-ML/MLOps_2026 ``src/ml_core``).

Written from the skeleton's documented behaviour: its module layout, signatures and what
its ``experiments/train.py`` does. Each course path must be our implementation itself
(no second copy), reachable under the skeleton's module names.
"""

from __future__ import annotations

import csv
import importlib
import logging
import random
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
import yaml

from ml_core import data, models, train

COURSE_YAML = Path(__file__).resolve().parents[2] / "configs" / "course.yaml"

# module path -> names a student imports from it, and where each really lives.
COURSE_PATHS = {
    "ml_core.data": {"get_dataloaders": data, "PCAMDataset": data},
    "ml_core.data.loader": {"get_dataloaders": data},
    "ml_core.data.pcam": {"PCAMDataset": data},
    "ml_core.models": {"MLP": models},
    "ml_core.models.mlp": {"MLP": models},
    "ml_core.solver": {"Trainer": None},
    "ml_core.solver.trainer": {"Trainer": None},
    "ml_core.utils": {
        "ExperimentTracker": train,
        "load_config": train,
        "seed_everything": train,
        "setup_logger": train,
    },
    "ml_core.utils.logging": {
        "setup_logger": train,
        "load_config": train,
        "seed_everything": train,
    },
    "ml_core.utils.tracker": {"ExperimentTracker": train},
}


@pytest.mark.parametrize("module_name", COURSE_PATHS)
def test_course_path_imports_the_real_implementation(module_name: str) -> None:
    module = importlib.import_module(module_name)
    solver = importlib.import_module("ml_core.solver.trainer")
    for name, home in COURSE_PATHS[module_name].items():
        assert name in module.__all__
        real = getattr(home if home is not None else solver, name)
        assert getattr(module, name) is real, f"{module_name}.{name} is a copy"


def test_load_config_returns_the_course_dict() -> None:
    from ml_core.utils.logging import load_config

    config = load_config(COURSE_YAML)
    assert config["experiment_name"] == "mlp_pcam_baseline"
    assert config["model"]["hidden_units"] == [64, 32]


def test_seed_everything_repeats_draws() -> None:
    from ml_core.utils.logging import seed_everything

    seed_everything(7)
    first = (random.random(), np.random.rand(), torch.rand(2).tolist())  # noqa: NPY002
    seed_everything(7)
    assert (random.random(), np.random.rand(), torch.rand(2).tolist()) == first  # noqa: NPY002


def test_setup_logger_adds_one_handler() -> None:
    from ml_core.utils.logging import setup_logger

    logger = setup_logger("ml_core.test_course_api")
    assert setup_logger("ml_core.test_course_api") is logger
    assert len(logger.handlers) == 1
    assert logger.level == logging.INFO


def test_experiment_tracker_writes_csv_config_and_tensorboard(tmp_path: Path) -> None:
    from ml_core.utils.tracker import ExperimentTracker

    tracker = ExperimentTracker("course", {"seed": 1}, base_dir=tmp_path)
    tracker.log_metrics(1, {"train_loss": 0.5, "val_loss": 0.25})
    tracker.log_metrics(2, {"train_loss": 0.4, "val_loss": 0.2})
    tracker.close()
    run_dir = tmp_path / "course"
    assert tracker.run_dir == run_dir
    with tracker.csv_path.open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [
        {"epoch": "1", "train_loss": "0.5", "val_loss": "0.25"},
        {"epoch": "2", "train_loss": "0.4", "val_loss": "0.2"},
    ]
    assert yaml.safe_load(tracker.config_path.read_text()) == {"seed": 1}
    assert list((run_dir / "tensorboard").glob("events.out.tfevents.*"))
    assert tracker.get_checkpoint_path("x.pt") == str(run_dir / "x.pt")


def test_experiment_tracker_never_overwrites_a_run(tmp_path: Path) -> None:
    from ml_core.utils.tracker import ExperimentTracker

    first = ExperimentTracker("course", {"seed": 1}, base_dir=tmp_path)
    first.log_metrics(1, {"train_loss": 0.5})
    first.close()
    before = (tmp_path / "course" / "metrics.csv").read_bytes()
    with pytest.raises(train.RunExistsError, match="already exists"):
        ExperimentTracker("course", {"seed": 2}, base_dir=tmp_path)
    assert (tmp_path / "course" / "metrics.csv").read_bytes() == before
    assert yaml.safe_load((tmp_path / "course" / "config.yaml").read_text()) == {
        "seed": 1
    }


def test_pcam_dataset_has_the_course_attributes_without_loading(
    tiny_pcam_dir: Path,
) -> None:
    from ml_core.data.pcam import PCAMDataset

    x_path, y_path = data.split_paths(tiny_pcam_dir, "train")
    dataset = PCAMDataset(str(x_path), str(y_path))
    assert (dataset.x_path, dataset.y_path) == (x_path, y_path)
    assert dataset.transform is None
    assert isinstance(dataset.x_data, h5py.Dataset)  # a lazy handle, nothing read
    assert dataset.x_data.shape == (96, 96, 96, 3)
    labels = dataset.y_data[:]
    assert labels.shape == (96, 1, 1, 1)
    with h5py.File(y_path) as file:
        assert np.array_equal(labels, file["y"][:])
    # The skeleton's sampler weights: inverse class frequency of y_data[:].
    flat = labels.reshape(-1)[dataset.indices]
    weights = (1.0 / np.bincount(flat))[flat]
    assert weights.shape == (96,)
    image, label = dataset[0]
    assert image.shape == (3, 96, 96)
    assert label.dtype == torch.long
    assert label.dim() == 0
    assert int(label) == int(labels[0, 0, 0, 0])


def test_course_style_script_with_course_paths_only(
    tmp_path: Path, tiny_pcam_dir: Path
) -> None:
    """What the skeleton's experiments/train.py does, through the course paths."""
    from ml_core.data.loader import get_dataloaders
    from ml_core.models.mlp import MLP
    from ml_core.solver.trainer import Trainer
    from ml_core.utils.logging import load_config, seed_everything

    config = load_config(COURSE_YAML)
    config["data"].update(data_path=str(tiny_pcam_dir), num_workers=0)
    config["training"].update(epochs=2, save_dir=str(tmp_path))
    seed_everything(config["seed"])
    train_loader, val_loader = get_dataloaders(config)
    model = MLP(
        input_shape=config["data"]["input_shape"],
        hidden_units=config["model"]["hidden_units"],
        num_classes=config["model"]["num_classes"],
        dropout_rate=config["model"]["dropout_rate"],
    )
    optimizer = torch.optim.Adam(
        model.parameters(), lr=config["training"]["learning_rate"]
    )
    trainer = Trainer(model=model, optimizer=optimizer, config=config, device="cpu")
    run_dir = tmp_path / "mlp_pcam_baseline"
    assert trainer.tracker.run_dir == run_dir  # exists right after __init__
    assert isinstance(trainer.criterion, torch.nn.CrossEntropyLoss)

    train_result = trainer.train_epoch(train_loader, 0)
    val_result = trainer.validate(val_loader, 0)
    for result in (train_result, val_result):
        assert isinstance(result, tuple)
        assert len(result) == 3
        loss, accuracy, f1 = result
        assert all(isinstance(value, float) for value in result)
        assert loss > 0
        assert 0 <= accuracy <= 1
        assert 0 <= f1 <= 1
    assert val_result == (
        trainer.val_metrics["loss"],
        trainer.val_metrics["acc"],
        trainer.val_metrics["f1"],
    )

    history = trainer.fit(train_loader, val_loader)

    assert [row["epoch"] for row in history] == [1, 2]
    assert set(history[0]) >= {"train_loss", "val_loss", "val_acc", "val_auroc", "lr"}
    assert trainer.best_val_loss == min(row["val_loss"] for row in history)
    with (run_dir / "metrics.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) == 2
    checkpoint = train.load_checkpoint(run_dir / "checkpoints" / "epoch_2.pt")
    assert checkpoint["epoch"] == 2
    assert checkpoint["val_loss"] == history[-1]["val_loss"]
    assert torch.load(run_dir / "checkpoints" / "epoch_1.pt", weights_only=True)
    # Same weights, batches and threads: the same arithmetic, so exactly equal.
    assert trainer.validate(val_loader, 2)[0] == history[-1]["val_loss"]
    with pytest.raises(train.RunExistsError):
        Trainer(model=model, optimizer=optimizer, config=config, device="cpu")
