"""The files of one run directory, by name: what training writes and viz/slurm read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Named in viz's messages about a run's test results.
TEST_METRICS_FILE = "test_metrics.json"
TEST_PREDICTIONS_FILE = "test_predictions.csv"


@dataclass(frozen=True)
class RunPaths:
    """Every file of the run directory ``root``."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.csv"

    @property
    def validation(self) -> Path:
        return self.root / "validation.csv"

    @property
    def environment(self) -> Path:
        return self.root / "env.json"

    @property
    def tensorboard(self) -> Path:
        return self.root / "tensorboard"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def last_checkpoint(self) -> Path:
        return self.checkpoints / "last.pt"

    @property
    def best_checkpoint(self) -> Path:
        return self.checkpoints / "best.pt"

    @property
    def test_metrics(self) -> Path:
        return self.root / TEST_METRICS_FILE

    @property
    def test_predictions(self) -> Path:
        return self.root / TEST_PREDICTIONS_FILE

    @property
    def curves(self) -> Path:
        return self.root / "curves.png"

    @property
    def report(self) -> Path:
        return self.root / "report.html"
