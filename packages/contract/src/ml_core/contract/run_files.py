"""The files of one run directory, by name: what training writes and viz/slurm read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CONFIG_FILE = "config.yaml"
METRICS_FILE = "metrics.csv"
VALIDATION_FILE = "validation.csv"
ENV_FILE = "env.json"
TENSORBOARD_DIR = "tensorboard"
CHECKPOINTS_DIR = "checkpoints"
LAST_CHECKPOINT = "last.pt"
BEST_CHECKPOINT = "best.pt"
TEST_METRICS_FILE = "test_metrics.json"
TEST_PREDICTIONS_FILE = "test_predictions.csv"
CURVES_FILE = "curves.png"
REPORT_FILE = "report.html"


@dataclass(frozen=True)
class RunPaths:
    """Every file of the run directory ``root``."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def metrics(self) -> Path:
        return self.root / METRICS_FILE

    @property
    def validation(self) -> Path:
        return self.root / VALIDATION_FILE

    @property
    def environment(self) -> Path:
        return self.root / ENV_FILE

    @property
    def tensorboard(self) -> Path:
        return self.root / TENSORBOARD_DIR

    @property
    def checkpoints(self) -> Path:
        return self.root / CHECKPOINTS_DIR

    @property
    def last_checkpoint(self) -> Path:
        return self.checkpoints / LAST_CHECKPOINT

    @property
    def best_checkpoint(self) -> Path:
        return self.checkpoints / BEST_CHECKPOINT

    @property
    def test_metrics(self) -> Path:
        return self.root / TEST_METRICS_FILE

    @property
    def test_predictions(self) -> Path:
        return self.root / TEST_PREDICTIONS_FILE

    @property
    def curves(self) -> Path:
        return self.root / CURVES_FILE

    @property
    def report(self) -> Path:
        return self.root / REPORT_FILE
