"""A run's metrics.csv as the tests compare it: rows of text, timing columns aside."""

from __future__ import annotations

import csv
from pathlib import Path

from ml_core.contract import TIMING_COLUMNS, RunPaths


def metrics_rows(run_dir: Path) -> list[dict[str, str]]:
    """The rows of ``run_dir/metrics.csv`` so far (none before the first epoch)."""
    path = RunPaths(run_dir).metrics
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def without_timing(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The rows without the wall-clock columns, the only ones that differ between runs
    of one config."""
    return [{k: v for k, v in row.items() if k not in TIMING_COLUMNS} for row in rows]
