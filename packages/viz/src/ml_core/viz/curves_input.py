"""Turn what the user points at (run directories, a sweep aggregate CSV) into series."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ml_core.viz.curve_series import (
    CurveSeries,
    mean_std_series,
    read_aggregate_csv,
    single_run_series,
)
from ml_core.viz.errors import VizInputError
from ml_core.viz.metrics_table import METRICS_FILE, read_metrics_csv
from ml_core.viz.run_groups import group_runs, read_run_config


@dataclass(frozen=True)
class CurvesInput:
    """The series to draw, a title for them and where the PNG goes by default."""

    series: list[CurveSeries]
    title: str
    default_out: Path
    planned_epochs: int | None = None


def load_curves_input(paths: Sequence[Path | str]) -> CurvesInput:
    """Read run directories, or one sweep ``aggregate.csv``; check all of it first."""
    if not paths:
        raise VizInputError("no run directory given")
    resolved = [Path(path) for path in paths]
    for path in resolved:
        if path.is_file() and path.suffix != ".csv":
            raise VizInputError(f"{path}: not a run directory or an aggregate CSV")
    csv_files = [path for path in resolved if path.is_file()]
    if csv_files:
        if len(resolved) > 1:
            raise VizInputError(
                f"{csv_files[0]}: give either run directories or one aggregate CSV"
            )
        return _aggregate_input(csv_files[0])
    return _runs_input(resolved)


def _aggregate_input(path: Path) -> CurvesInput:
    series = read_aggregate_csv(path)
    return CurvesInput(
        series=series,
        title=f"Sweep {path.resolve().parent.name}: {len(series)} grid point(s) "
        f"from {path.name}",
        default_out=path.with_name(f"{path.stem}_curves.png"),
    )


def _runs_input(run_dirs: list[Path]) -> CurvesInput:
    for run_dir in run_dirs:
        if not run_dir.is_dir():
            raise VizInputError(f"{run_dir}: no such run directory")
        if not (run_dir / METRICS_FILE).is_file():
            raise VizInputError(
                f"{run_dir}: no {METRICS_FILE} (not a run directory, "
                "or no epoch has finished yet)"
            )
    tables = {run_dir: read_metrics_csv(run_dir / METRICS_FILE) for run_dir in run_dirs}
    series = []
    for group in group_runs(run_dirs):
        group_tables = [tables[run_dir] for run_dir in group.run_dirs]
        if len(group_tables) == 1:
            series.append(single_run_series(group_tables[0], group.label))
        else:
            series.append(mean_std_series(group_tables, group.label))
    if len(run_dirs) == 1:
        return CurvesInput(
            series=series,
            title=f"Learning curves: {run_dirs[0].name}",
            default_out=run_dirs[0] / "curves.png",
            planned_epochs=_planned_epochs(run_dirs[0]),
        )
    return CurvesInput(
        series=series,
        title=f"Learning curves: {len(run_dirs)} runs in {len(series)} group(s)",
        default_out=run_dirs[0].parent / f"curves_{len(run_dirs)}runs.png",
    )


def _planned_epochs(run_dir: Path) -> int | None:
    config = read_run_config(run_dir) or {}
    training = config.get("training")
    epochs = training.get("epochs") if isinstance(training, dict) else None
    return epochs if isinstance(epochs, int) and epochs > 0 else None
