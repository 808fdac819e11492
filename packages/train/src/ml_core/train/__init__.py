"""Training: config to a trained, tracked, exactly resumable model (CLIs ml-train, ml-eval)."""

from ml_core.contract import ConfigError, apply_overrides, load_config
from ml_core.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ml_core.train.commands import BAD_INPUT_ERRORS
from ml_core.train.config import (
    ModelConfig,
    TrainConfig,
    TrainingConfig,
    build_config,
)
from ml_core.train.device import DeviceUnavailableError, select_device
from ml_core.train.epoch_metrics import EpochAccumulator, auroc, binary_metrics
from ml_core.train.fit import TrainingRun
from ml_core.train.invocation import ResolvedRun, TrainRequest, resolve_run
from ml_core.train.logs import setup_logger
from ml_core.train.loop import evaluate, train_one_epoch
from ml_core.train.main_job import TrainOutcome, train
from ml_core.train.run_directory import RunExistsError
from ml_core.train.seeding import seed_everything
from ml_core.train.tracking import ExperimentTracker

__all__ = [
    "BAD_INPUT_ERRORS",
    "CheckpointError",
    "ConfigError",
    "DeviceUnavailableError",
    "EpochAccumulator",
    "ExperimentTracker",
    "ModelConfig",
    "ResolvedRun",
    "RunExistsError",
    "TrainConfig",
    "TrainOutcome",
    "TrainRequest",
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
