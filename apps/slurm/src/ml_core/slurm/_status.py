"""A task's status file (state, restarts, final metrics), which its job rewrites at every
turn, and the state ``ml-slurm status`` shows from that file and from Slurm.

Job scripts write the file with ``python -m ml_core.slurm._status STATUS_FILE --state S
--run-dir RUN_DIR [--exit-code N]``, which imports no torch.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ml_core.contract import (
    TEXT_COLUMNS,
    OneLineArgumentParser,
    RunPaths,
    write_text_atomic,
)
from ml_core.slurm._metrics import final_epoch, read_metrics
from ml_core.slurm._slurm import LIVE_STATES
from ml_core.slurm._values import SlurmInputError

WRITTEN_STATES = ("RUNNING", "REQUEUED", "COMPLETED", "FAILED")
FINAL_STATES = frozenset({"COMPLETED", "FAILED"})


def write_status(
    status_file: Path, state: str, run_dir: Path, exit_code: int | None = None
) -> dict[str, Any]:
    """Write the status of the task running in this job; return what was written."""
    try:
        last = final_epoch(run_dir) or {}
    except SlurmInputError:
        last = {}  # a damaged metrics.csv must not keep the state from being recorded
    metrics = {
        key: value
        for key, value in last.items()
        if key not in TEXT_COLUMNS and not math.isnan(value)
    }
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
        "final_metrics": metrics or None,
        "final_warning": last.get("warning") or None,
        "test_metrics": _read_json(RunPaths(run_dir).test_metrics),
    }
    write_text_atomic(status_file, json.dumps(status, indent=2) + "\n")
    return status


def read_status(status_file: Path) -> dict[str, Any] | None:
    """The status written last, or None if there is none (or it is unreadable)."""
    return _read_json(status_file)


@dataclass(frozen=True)
class TaskState:
    """A task as ``ml-slurm status`` shows it."""

    label: str
    job_id: str | None
    slurm_state: str | None
    file_state: str | None
    run_dir: Path
    epochs_done: int
    last_val_auroc: float | None
    collapsed: bool

    @classmethod
    def observe(
        cls,
        label: str,
        job_id: str | None,
        slurm_state: str | None,
        status_file: Path,
        run_dir: Path,
    ) -> TaskState:
        """Combine Slurm's word on the job, the status file and the run's metrics."""
        metrics = read_metrics(run_dir)
        last = metrics[max(metrics)] if metrics else {}
        auroc = last.get("val_auroc")
        return cls(
            label=label,
            job_id=job_id,
            slurm_state=slurm_state,
            file_state=(read_status(status_file) or {}).get("state"),
            run_dir=run_dir,
            epochs_done=max(metrics, default=0),
            last_val_auroc=None if auroc is None or math.isnan(auroc) else auroc,
            collapsed=bool(last.get("warning")),
        )

    @property
    def state(self) -> str:
        """Slurm's word while it owns the job, else the status file's, else MISSING."""
        if self.slurm_state in LIVE_STATES:
            return self.slurm_state
        if self.file_state in FINAL_STATES:
            return self.file_state
        if self.slurm_state is not None:
            return self.slurm_state
        if self.file_state is not None:
            # The job ended without a final word (killed hard) and Slurm forgot it.
            return "LOST"
        return "MISSING"

    @property
    def needs_resubmit(self) -> bool:
        return self.state != "COMPLETED" and self.state not in LIVE_STATES


def format_table(tasks: list[TaskState]) -> str:
    """An aligned text table, one line per task; ``collapsed``: the last epoch's
    validation carried a warning (see the run's metrics.csv for why)."""
    header = ("task", "job", "state", "slurm", "file", "epochs", "val_auroc")
    rows = [(*header, "collapsed", "run_dir")]
    for task in tasks:
        auroc = "-" if task.last_val_auroc is None else f"{task.last_val_auroc:.4f}"
        rows.append(
            (
                task.label,
                task.job_id or "-",
                task.state,
                task.slurm_state or "-",
                task.file_state or "-",
                str(task.epochs_done),
                auroc,
                "yes" if task.collapsed else "-",
                str(task.run_dir),
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in rows
    )


def main(argv: list[str] | None = None) -> int:
    """The job side: record this task's state in its status file."""
    parser = OneLineArgumentParser(
        prog="python -m ml_core.slurm._status",
        description="Record the state of this Slurm task in its status file.",
    )
    parser.add_argument("status_file", type=Path, help="the status JSON to write")
    parser.add_argument("--state", required=True, choices=WRITTEN_STATES)
    parser.add_argument("--run-dir", required=True, type=Path)
    parser.add_argument(
        "--exit-code",
        type=_exit_code,
        default=None,
        help="the trainer's exit status (empty while it runs)",
    )
    args = parser.parse_args(argv)
    write_status(args.status_file, args.state, args.run_dir, args.exit_code)
    return 0


def _exit_code(text: str) -> int | None:
    if not text.strip():
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an exit status: {text!r}") from None


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


if __name__ == "__main__":
    sys.exit(main())
