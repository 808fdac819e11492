"""Reading a run's ``metrics.csv``, and a sweep's results per grid point: mean and
sample std of every metric, epoch by epoch.

``aggregate.csv``: ``group,epoch,<metric>_mean,<metric>_std,...,n_runs,n_collapsed`` for
the metrics.csv numbers in ``ml_core.contract.NUMERIC_METRICS``; ``ml-viz curves`` draws
it. ``n_collapsed`` counts the runs whose row of that epoch carries a ``warning``.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ml_core.contract import (
    METRIC_COLUMNS,
    NUMERIC_METRICS,
    TEXT_COLUMNS,
    RunPaths,
    write_text_atomic,
)
from ml_core.slurm._values import SlurmInputError

AGGREGATE_COLUMNS = (
    "group",
    "epoch",
    *(f"{metric}_{stat}" for metric in NUMERIC_METRICS for stat in ("mean", "std")),
    "n_runs",
    "n_collapsed",
)


def read_metrics(run_dir: Path) -> dict[int, dict[str, Any]]:
    """``{epoch: row}`` from a run's metrics.csv ({} before the first epoch): numbers,
    NaN where a cell is empty or a column missing, and the text columns as text."""
    path = RunPaths(run_dir).metrics
    if not path.is_file():
        return {}
    rows = {}
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                parsed: dict[str, Any] = {
                    column: _number(row.get(column))
                    for column in METRIC_COLUMNS
                    if column not in TEXT_COLUMNS
                }
                parsed.update(
                    {column: row.get(column) or "" for column in TEXT_COLUMNS}
                )
                rows[int(row["epoch"])] = parsed
    except (OSError, csv.Error, KeyError, TypeError, ValueError) as error:
        raise SlurmInputError(f"{path}: not a readable metrics.csv ({error})") from None
    return rows


def final_epoch(run_dir: Path) -> dict[str, Any] | None:
    """The last row of ``metrics.csv``, or None before the first epoch."""
    rows = read_metrics(run_dir)
    return rows[max(rows)] if rows else None


def aggregate_rows(runs: Iterable[tuple[str, Path]]) -> list[dict[str, object]]:
    """One row per (group, epoch) over the runs given as ``(group, run_dir)``."""
    grouped: dict[str, list[dict[int, dict[str, Any]]]] = {}
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
            for metric in NUMERIC_METRICS:
                values = [m[metric] for m in reached if not math.isnan(m[metric])]
                row[f"{metric}_mean"] = statistics.fmean(values) if values else math.nan
                row[f"{metric}_std"] = _sample_std(values)
            row["n_runs"] = len(reached)
            row["n_collapsed"] = sum(1 for m in reached if m["warning"])
            rows.append(row)
    return rows


def write_aggregate(path: Path, runs: Iterable[tuple[str, Path]]) -> int:
    """Write ``aggregate.csv`` atomically; return how many rows it holds. Nothing is
    written while no run has finished an epoch."""
    rows = aggregate_rows(runs)
    if not rows:
        return 0
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=AGGREGATE_COLUMNS, lineterminator="\n")
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
