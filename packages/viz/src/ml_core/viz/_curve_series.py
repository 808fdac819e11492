"""What the curves figure draws: one series per run, per group of runs repeating one
config (mean ± std), or per grid point of a sweep's ``aggregate.csv``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ml_core.contract import RunPaths, dotted_keys, quoted
from ml_core.viz._run_files import (
    PLOTTED_COLUMNS,
    CsvRows,
    MetricsTable,
    VizInputError,
    read_csv,
    read_metrics_csv,
    read_run_config,
)

# Keys that differ between repetitions of one experiment, at any nesting depth.
REPETITION_KEYS = frozenset({"seed", "experiment_name"})
MAX_LABEL_KEYS = 3


@dataclass(frozen=True)
class CurveSeries:
    """Per-epoch values of every plotted column; ``std`` is None for a single run."""

    label: str
    epochs: np.ndarray
    mean: dict[str, np.ndarray]
    std: dict[str, np.ndarray] | None
    n_runs: np.ndarray  # per epoch: how many runs reached it

    @property
    def legend_label(self) -> str:
        """The label and, for a band, how many runs it averages (a range if runs
        stopped at different epochs)."""
        if self.std is None:
            return self.label
        low, high = int(self.n_runs.min()), int(self.n_runs.max())
        if high == 1:
            return f"{self.label} (1 run)"
        count = str(high) if low == high else f"{low}-{high}"
        return f"{self.label} (mean ± std, {count} runs)"


@dataclass(frozen=True)
class CurvesInput:
    """The series to draw, their title and where the PNG goes by default."""

    series: list[CurveSeries]
    title: str
    default_out: Path
    planned_epochs: int | None = None


def load_curves_input(paths: Sequence[Path | str]) -> CurvesInput:
    """Read run directories, or one sweep ``aggregate.csv``; check all of it first."""
    if not paths:
        raise VizInputError("no run directory given")
    resolved = [Path(path) for path in paths]
    csv_files = [path for path in resolved if path.is_file()]
    for path in csv_files:
        if path.suffix != ".csv":
            raise VizInputError(f"{path}: not a run directory or an aggregate CSV")
    if not csv_files:
        return _runs_input(resolved)
    if len(resolved) > 1:
        raise VizInputError(
            f"{csv_files[0]}: give either run directories or one aggregate CSV"
        )
    path = csv_files[0]
    series = read_aggregate_csv(path)
    return CurvesInput(
        series,
        f"Sweep {path.resolve().parent.name}: {len(series)} grid point(s) from "
        f"{path.name}",
        path.with_name(f"{path.stem}_curves.png"),
    )


def _runs_input(run_dirs: list[Path]) -> CurvesInput:
    tables = {run_dir: read_metrics_csv(run_dir) for run_dir in run_dirs}
    configs = [(run_dir, read_run_config(run_dir)) for run_dir in run_dirs]
    series = [
        series_over_runs([tables[run_dir] for run_dir in dirs], label)
        for label, dirs in group_runs(configs)
    ]
    if len(run_dirs) > 1:
        return CurvesInput(
            series,
            f"Learning curves: {len(run_dirs)} runs in {len(series)} group(s)",
            run_dirs[0].parent / f"curves_{len(run_dirs)}runs.png",
        )
    training = (configs[0][1] or {}).get("training")
    planned = training.get("epochs") if isinstance(training, dict) else None
    return CurvesInput(
        series,
        f"Learning curves: {run_dirs[0].name}",
        RunPaths(run_dirs[0]).curves,
        planned if isinstance(planned, int) and planned > 0 else None,
    )


def group_runs(
    run_configs: Sequence[tuple[Path, dict[str, Any] | None]],
) -> list[tuple[str, list[Path]]]:
    """(legend label, runs) per config without seed / experiment name, in input order;
    a run without ``config.yaml`` (None) cannot be shown to repeat another: it stands
    alone."""
    groups: dict[str, list[Path]] = {}
    configs: dict[str, dict] = {}
    for run_dir, config in run_configs:
        if config is None:
            key, flat = f"run:{run_dir}", {}
        else:
            flat = dotted_keys(config, REPETITION_KEYS)
            key = json.dumps(flat, sort_keys=True, default=str)
        configs[key] = flat
        groups.setdefault(key, []).append(run_dir)
    # Label by the keys that differ, when every group has a config to compare.
    flats = list(configs.values())
    keys = sorted(set().union(*flats)) if len(flats) > 1 and all(flats) else []
    differing = [key for key in keys if len({repr(one.get(key)) for one in flats}) > 1]
    return [
        (_label(dirs, configs[key], differing), dirs) for key, dirs in groups.items()
    ]


def _label(dirs: list[Path], flat: dict, differing: list[str]) -> str:
    if not differing:
        return dirs[0].name + (f" +{len(dirs) - 1}" if len(dirs) > 1 else "")
    shown = differing[:MAX_LABEL_KEYS]
    name = ", ".join(f"{key.rsplit('.', 1)[-1]}={flat.get(key)}" for key in shown)
    return name + (", …" if len(differing) > MAX_LABEL_KEYS else "")


def series_over_runs(tables: Sequence[MetricsTable], label: str) -> CurveSeries:
    """Mean and sample std (ddof=1) per epoch over the runs that reached it (``n_runs``;
    one may still be running); NaN cells are left out, a single value gets std 0. One
    run is drawn as plain lines (``std`` None)."""
    epochs = np.unique(np.concatenate([table.epochs for table in tables]))
    places = [np.searchsorted(epochs, table.epochs) for table in tables]
    counts = np.bincount(np.concatenate(places), minlength=len(epochs))
    mean, std = {}, {}
    for column in PLOTTED_COLUMNS:
        stacked = np.full((len(tables), len(epochs)), np.nan)
        for row, (table, place) in enumerate(zip(tables, places, strict=True)):
            stacked[row, place] = table.columns[column]
        mean[column], std[column] = _nan_mean_std(stacked)
    return CurveSeries(label, epochs, mean, std if len(tables) > 1 else None, counts)


def _nan_mean_std(stacked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Written out instead of np.nanmean/np.nanstd, which warn on all-NaN columns.
    present = ~np.isnan(stacked)
    count = present.sum(axis=0)
    total = np.where(present, stacked, 0.0).sum(axis=0)
    mean = np.divide(total, count, out=np.full(count.shape, np.nan), where=count > 0)
    squares = np.where(present, (stacked - mean) ** 2, 0.0).sum(axis=0)
    variance = np.divide(squares, count - 1, out=np.zeros(count.shape), where=count > 1)
    return mean, np.where(count > 0, np.sqrt(variance), np.nan)


def read_aggregate_csv(path: Path) -> list[CurveSeries]:
    """One series per ``group`` of a sweep ``aggregate.csv``, in order of appearance."""
    stats = [
        f"{column}_{stat}" for column in PLOTTED_COLUMNS for stat in ("mean", "std")
    ]
    table = read_csv(path, ["group", "epoch", "n_runs", *stats])
    groups = table.text("group")
    series = []
    for group in dict.fromkeys(groups):
        rows = [
            row for row, name in zip(table.rows, groups, strict=True) if name == group
        ]
        part = CsvRows(path, table.header, rows)
        n_runs = part.numbers("n_runs")
        if np.any(~np.isfinite(n_runs)) or np.any(n_runs < 1) or np.any(n_runs % 1):
            raise VizInputError(
                f"{path}: group {quoted(group)} has an n_runs that is not >= 1"
            )
        series.append(
            CurveSeries(
                group,
                part.epochs(),
                {name: part.numbers(f"{name}_mean") for name in PLOTTED_COLUMNS},
                {name: part.numbers(f"{name}_std") for name in PLOTTED_COLUMNS},
                n_runs.astype(np.int64),
            )
        )
    return series
