"""Status files: the state, restarts and final metrics of one task, as JSON.

Job scripts write them through :mod:`ml_core.slurm.record_status`; ``ml-slurm status``
reads them.
"""

from __future__ import annotations

import csv
import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ml_core.contract import RunPaths, write_text_atomic

STATES = ("SUBMITTED", "RUNNING", "REQUEUED", "COMPLETED", "FAILED")


def final_metrics(run_dir: Path) -> dict[str, float] | None:
    """The last row of ``metrics.csv`` as numbers, or None before the first epoch."""
    try:
        with RunPaths(run_dir).metrics.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, csv.Error):
        return None
    if not rows:
        return None
    numbers = {}
    for key, value in rows[-1].items():
        try:
            numbers[key] = float(value)
        except (TypeError, ValueError):
            continue
    return numbers


def test_metrics(run_dir: Path) -> dict[str, Any] | None:
    """``test_metrics.json`` of the run, or None if it is not there (yet)."""
    try:
        loaded = json.loads(RunPaths(run_dir).test_metrics.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def write_status(
    status_file: Path, state: str, run_dir: Path, exit_code: int | None = None
) -> dict[str, Any]:
    """Write the status of the task running in this job; return what was written."""
    status = {
        "state": state,
        "updated": datetime.now(UTC).isoformat(timespec="seconds"),
        "job_id": os.environ.get("SLURM_JOB_ID"),
        "array_job_id": os.environ.get("SLURM_ARRAY_JOB_ID"),
        "array_task_id": os.environ.get("SLURM_ARRAY_TASK_ID"),
        "restarts": int(os.environ.get("SLURM_RESTART_COUNT") or 0),
        "node": socket.gethostname(),
        "exit_code": exit_code,
        "run_dir": str(run_dir),
        "final_metrics": final_metrics(run_dir),
        "test_metrics": test_metrics(run_dir),
    }
    write_text_atomic(status_file, json.dumps(status, indent=2) + "\n")
    return status


def read_status(status_file: Path) -> dict[str, Any] | None:
    """The status written last, or None if there is none (or it is unreadable)."""
    try:
        loaded = json.loads(status_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None
