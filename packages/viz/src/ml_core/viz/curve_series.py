"""What one coloured line (or band) on the curves figure shows.

A series is either one run's metrics, the mean ± standard deviation over runs that share
a config apart from the seed, or one grid point of a sweep's ``aggregate.csv``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ml_core.viz.errors import VizInputError
from ml_core.viz.metrics_table import (
    PLOTTED_COLUMNS,
    MetricsTable,
    parse_epochs,
    parse_number,
    read_csv_rows,
)


@dataclass(frozen=True)
class CurveSeries:
    """Per-epoch values of every plotted column; ``std`` is None for a single run."""

    label: str
    epochs: np.ndarray
    mean: dict[str, np.ndarray]
    std: dict[str, np.ndarray] | None
    n_runs: np.ndarray

    @property
    def legend_label(self) -> str:
        """The label plus, for a band, how many runs it averages (a range if runs
        stopped at different epochs)."""
        if self.std is None:
            return self.label
        low, high = int(self.n_runs.min()), int(self.n_runs.max())
        if high == 1:
            return f"{self.label} (1 run)"
        count = str(high) if low == high else f"{low}-{high}"
        return f"{self.label} (mean ± std, {count} runs)"


def single_run_series(table: MetricsTable, label: str) -> CurveSeries:
    """One run drawn as plain lines."""
    return CurveSeries(
        label=label,
        epochs=table.epochs,
        mean=dict(table.columns),
        std=None,
        n_runs=np.ones(len(table.epochs), dtype=np.int64),
    )


def mean_std_series(tables: Sequence[MetricsTable], label: str) -> CurveSeries:
    """Mean and sample standard deviation (ddof=1) over runs, epoch by epoch.

    Runs may have different lengths (one still running): each epoch averages the runs
    that reached it, and ``n_runs`` says how many that were. NaN cells are left out; an
    epoch with a single value gets std 0.
    """
    epochs = np.unique(np.concatenate([table.epochs for table in tables]))
    mean, std = {}, {}
    counts = np.zeros(len(epochs), dtype=np.int64)
    for table in tables:
        counts[np.searchsorted(epochs, table.epochs)] += 1
    for column in PLOTTED_COLUMNS:
        stacked = np.full((len(tables), len(epochs)), np.nan)
        for row, table in enumerate(tables):
            stacked[row, np.searchsorted(epochs, table.epochs)] = table.columns[column]
        mean[column], std[column] = _nan_mean_std(stacked)
    return CurveSeries(label=label, epochs=epochs, mean=mean, std=std, n_runs=counts)


def _nan_mean_std(stacked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Written out instead of np.nanmean/np.nanstd, which warn on all-NaN columns.
    present = ~np.isnan(stacked)
    count = present.sum(axis=0)
    total = np.where(present, stacked, 0.0).sum(axis=0)
    mean = np.divide(total, count, out=np.full(count.shape, np.nan), where=count > 0)
    squares = np.where(present, (stacked - mean) ** 2, 0.0).sum(axis=0)
    variance = np.divide(squares, count - 1, out=np.zeros(count.shape), where=count > 1)
    std = np.where(count > 0, np.sqrt(variance), np.nan)
    return mean, std


def read_aggregate_csv(path: Path) -> list[CurveSeries]:
    """One series per ``group`` of a sweep ``aggregate.csv``, in order of appearance."""
    needed = ["group", "epoch", "n_runs"]
    needed += [
        f"{column}_{stat}" for column in PLOTTED_COLUMNS for stat in ("mean", "std")
    ]
    header, rows = read_csv_rows(path, needed)
    group_index = header.index("group")
    grouped: dict[str, list[tuple[int, list[str]]]] = {}
    for line_number, fields in rows:
        grouped.setdefault(fields[group_index], []).append((line_number, fields))
    return [
        _aggregate_group(path, header, group, group_rows)
        for group, group_rows in grouped.items()
    ]


def _aggregate_group(
    path: Path, header: list[str], group: str, rows: list[tuple[int, list[str]]]
) -> CurveSeries:
    def column(name: str) -> np.ndarray:
        index = header.index(name)
        return np.asarray(
            [parse_number(path, line, name, fields[index]) for line, fields in rows]
        )

    n_runs = column("n_runs")
    if np.any(~np.isfinite(n_runs)) or np.any(n_runs < 1) or np.any(n_runs % 1):
        raise VizInputError(f"{path}: group {group!r} has an n_runs that is not >= 1")
    return CurveSeries(
        label=group,
        epochs=parse_epochs(path, rows, header.index("epoch")),
        mean={name: column(f"{name}_mean") for name in PLOTTED_COLUMNS},
        std={name: column(f"{name}_std") for name in PLOTTED_COLUMNS},
        n_runs=n_runs.astype(np.int64),
    )
