"""Sweep results per grid point: mean and sample std of every metric, epoch by epoch.

``aggregate.csv`` has the columns ``group,epoch,<metric>_mean,<metric>_std,...,n_runs``
for the metrics.csv columns ``train_loss`` ... ``lr``; ``ml-viz curves`` draws it.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections.abc import Iterable
from pathlib import Path

from ml_core.contract import write_text_atomic
from ml_core.slurm.errors import SlurmInputError

METRIC_COLUMNS = (
    "train_loss",
    "train_acc",
    "train_f1",
    "train_auroc",
    "val_loss",
    "val_acc",
    "val_f1",
    "val_auroc",
    "lr",
)


def read_metrics(run_dir: Path) -> dict[int, dict[str, float]]:
    """``{epoch: {metric: value}}`` from a run's metrics.csv ({} if there is none)."""
    path = run_dir / "metrics.csv"
    if not path.is_file():
        return {}
    rows = {}
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                rows[int(row["epoch"])] = {
                    column: _number(row.get(column)) for column in METRIC_COLUMNS
                }
    except (OSError, csv.Error, KeyError, TypeError, ValueError) as error:
        raise SlurmInputError(f"{path}: not a readable metrics.csv ({error})") from None
    return rows


def aggregate_rows(runs: Iterable[tuple[str, Path]]) -> list[dict[str, object]]:
    """One row per (group, epoch) over the runs given as ``(group, run_dir)``."""
    grouped: dict[str, list[dict[int, dict[str, float]]]] = {}
    for group, run_dir in runs:
        metrics = read_metrics(run_dir)
        if metrics:
            grouped.setdefault(group, []).append(metrics)
    rows = []
    for group, run_metrics in grouped.items():
        epochs = sorted({epoch for metrics in run_metrics for epoch in metrics})
        for epoch in epochs:
            reached = [metrics[epoch] for metrics in run_metrics if epoch in metrics]
            row: dict[str, object] = {"group": group, "epoch": epoch}
            for column in METRIC_COLUMNS:
                values = [m[column] for m in reached if not math.isnan(m[column])]
                row[f"{column}_mean"] = statistics.fmean(values) if values else math.nan
                row[f"{column}_std"] = _sample_std(values)
            row["n_runs"] = len(reached)
            rows.append(row)
    return rows


def write_aggregate(path: Path, runs: Iterable[tuple[str, Path]]) -> int:
    """Write ``aggregate.csv`` atomically; return how many rows it holds."""
    rows = aggregate_rows(runs)
    header = ["group", "epoch"]
    header += [
        f"{column}_{stat}" for column in METRIC_COLUMNS for stat in ("mean", "std")
    ]
    header.append("n_runs")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, buffer.getvalue())
    return len(rows)


def _sample_std(values: list[float]) -> float:
    """ddof=1, and 0 for a single run (as ``ml-viz`` draws it)."""
    if not values:
        return math.nan
    return statistics.stdev(values) if len(values) > 1 else 0.0


def _number(text: str | None) -> float:
    try:
        return float(text) if text not in (None, "") else math.nan
    except ValueError:
        return math.nan
