"""Training: config to a trained, tracked, exactly resumable model (CLIs ml-train, ml-eval)."""

from ml_core.contract import ConfigError, apply_overrides, load_config
from ml_core.train._checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ml_core.train._config import (
    ExperimentConfig,
    ModelConfig,
    TrainingConfig,
    build_config,
)
from ml_core.train._device import DeviceUnavailableError, select_device
from ml_core.train._experiment import train
from ml_core.train._fit import TrainingRun
from ml_core.train._loop import evaluate, train_one_epoch
from ml_core.train._metrics import EpochAccumulator, auroc, binary_metrics
from ml_core.train._progress import setup_logger
from ml_core.train._request import RunRequest, resolve_run
from ml_core.train._run_directory import RunExistsError
from ml_core.train._seeding import seed_everything
from ml_core.train._tracking import ExperimentTracker

__all__ = [
    "CheckpointError",
    "ConfigError",
    "DeviceUnavailableError",
    "EpochAccumulator",
    "ExperimentConfig",
    "ExperimentTracker",
    "ModelConfig",
    "RunExistsError",
    "RunRequest",
    "TrainingConfig",
    "TrainingRun",
    "apply_overrides",
    "auroc",
    "binary_metrics",
    "build_config",
    "evaluate",
    "load_checkpoint",
    "load_config",
    "resolve_run",
    "save_checkpoint",
    "seed_everything",
    "select_device",
    "setup_logger",
    "train",
    "train_one_epoch",
]
