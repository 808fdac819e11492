"""Experiment tracking: CSV tables (rewritten atomically per row) and TensorBoard."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from torch.utils.tensorboard import SummaryWriter

from ml_core.contract import write_text_atomic
from ml_core.train._run_directory import RunExistsError


def write_metrics_csv(
    path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]
) -> None:
    """The whole table, atomically; floats by repr (every digit, so equal floats give
    equal cells), None as an empty cell."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(row.get(key)) for key in columns})
    write_text_atomic(path, buffer.getvalue())


def write_config_yaml(path: Path, config: Mapping[str, Any]) -> None:
    """The resolved config as YAML, keys in the course's order."""
    write_text_atomic(path, yaml.safe_dump(dict(config), sort_keys=False))


def log_scalars(
    writer: SummaryWriter, step: int, metrics: Mapping[str, Any], prefix: str = ""
) -> None:
    """Every finite numeric metric as a TensorBoard scalar ``prefix + name`` at ``step``."""
    for name, value in metrics.items():
        if name in ("epoch", "step") or isinstance(value, bool):
            continue
        if isinstance(value, int | float) and math.isfinite(value):
            writer.add_scalar(prefix + name, value, step)
    writer.flush()


class ExperimentTracker:
    """Course API: a new run directory (never an existing one: RunExistsError) with
    config.yaml, metrics.csv and TensorBoard files."""

    def __init__(
        self,
        experiment_name: str,
        config: Mapping[str, Any],
        base_dir: str | Path = "experiments/results",
    ) -> None:
        self.run_dir = Path(base_dir) / experiment_name
        self.run_dir.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.run_dir.mkdir()
        except FileExistsError:
            raise RunExistsError(
                f"{self.run_dir}: run directory already exists; use another "
                "experiment_name, or delete it first (runs are never overwritten)"
            ) from None
        self.config_path = self.run_dir / "config.yaml"
        self.csv_path = self.run_dir / "metrics.csv"
        write_config_yaml(self.config_path, config)
        self._rows: list[dict[str, Any]] = []
        self.writer = SummaryWriter(log_dir=str(self.run_dir / "tensorboard"))

    def log_metrics(self, epoch: int, metrics: Mapping[str, Any]) -> None:
        """Append one row (``epoch`` plus ``metrics``) to the CSV and TensorBoard."""
        self._rows.append({"epoch": epoch, **metrics})
        write_metrics_csv(self.csv_path, list(self._rows[0]), self._rows)
        log_scalars(self.writer, epoch, metrics)

    def get_checkpoint_path(self, filename: str) -> str:
        """Where a checkpoint called ``filename`` belongs in this run."""
        return str(self.run_dir / filename)

    def close(self) -> None:
        self.writer.close()


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return repr(value)
    return "" if value is None else value
