"""What a run and its job leave behind, read back: ``metrics.csv``, the status file the
job rewrites at every turn (see ``_record``), ``aggregate.csv``, and each task's state
from Slurm (sacct, squeue) and its files."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import socket
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ml_core.contract import (
    METRIC_COLUMNS,
    NUMERIC_METRICS,
    TEXT_COLUMNS,
    RunPaths,
    write_json_atomic,
    write_text_atomic,
)
from ml_core.slurm._values import SlurmInputError, run_tool

AGGREGATE_COLUMNS = (
    "group",
    "epoch",
    *(f"{metric}_{stat}" for metric in NUMERIC_METRICS for stat in ("mean", "std")),
    "n_runs",
    "n_collapsed",  # runs whose row of that epoch carries a warning: collapsed
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
                rows[int(row["epoch"])] = {
                    column: row.get(column) or ""
                    if column in TEXT_COLUMNS
                    else _number(row.get(column))
                    for column in METRIC_COLUMNS
                }
    except (OSError, csv.Error, KeyError, TypeError, ValueError) as error:
        raise SlurmInputError(f"{path}: not a readable metrics.csv ({error})") from None
    return rows


def final_epoch(run_dir: Path) -> dict[str, Any]:
    """The last row of ``metrics.csv``, {} before the first epoch."""
    rows = read_metrics(run_dir)
    return rows[max(rows)] if rows else {}


def write_aggregate(path: Path, runs: Iterable[tuple[str, Path]]) -> int:
    """One row per (group, epoch) over ``(group, run_dir)`` runs, written atomically;
    returns the rows, 0 and nothing written while no run has finished an epoch."""
    reached: dict[str, dict[int, list[dict[str, Any]]]] = {}
    for group, run_dir in runs:
        for epoch, metrics in read_metrics(run_dir).items():
            reached.setdefault(group, {}).setdefault(epoch, []).append(metrics)
    rows = []
    for group, epochs in reached.items():
        for epoch, epoch_rows in sorted(epochs.items()):
            row: dict[str, object] = {"group": group, "epoch": epoch}
            for metric in NUMERIC_METRICS:
                values = [m[metric] for m in epoch_rows if not math.isnan(m[metric])]
                # Sample std (ddof=1), and 0 for a single run (as ml-viz draws it).
                std = statistics.stdev(values) if len(values) > 1 else 0.0
                row[f"{metric}_mean"] = statistics.fmean(values) if values else math.nan
                row[f"{metric}_std"] = std if values else math.nan
            row["n_runs"] = len(epoch_rows)
            row["n_collapsed"] = sum(1 for m in epoch_rows if m["warning"])
            rows.append(row)
    if not rows:
        return 0
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=AGGREGATE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, buffer.getvalue())
    return len(rows)


def _number(text: str | None) -> float:
    try:
        return float(text) if text not in (None, "") else math.nan
    except ValueError:
        return math.nan


WRITTEN_STATES = ("RUNNING", "REQUEUED", "COMPLETED", "FAILED")
FINAL_STATES = frozenset({"COMPLETED", "FAILED"})


def write_status(
    status_file: Path, state: str, run_dir: Path, exit_code: int | None = None
) -> None:
    """Write the status of the task running in this job."""
    try:
        last = final_epoch(run_dir)
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
        "test_metrics": read_json(RunPaths(run_dir).test_metrics),
    }
    write_json_atomic(status_file, status)


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from ``path``; None if it is missing, unreadable or no object."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


# States in which Slurm still owns the job, not to be resubmitted: queued or running,
# and requeued, resized or paused.
LIVE_STATES = frozenset(
    {"PENDING", "CONFIGURING", "RUNNING", "SIGNALING", "COMPLETING", "STAGE_OUT"}
    | {"REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "RESIZING", "SUSPENDED", "STOPPED"}
)


def job_states(job_ids: Iterable[str]) -> dict[str, str]:
    """``{"123": "RUNNING", "124_2": "PENDING", ...}`` from sacct, then squeue: squeue
    knows jobs until MinJobAge after they end, sacct (where accounting is on) longer.
    Missing tools or disabled accounting give fewer entries."""
    ids = ",".join(sorted(set(job_ids)))
    if not ids:
        return {}
    states = _pairs(["sacct", "-n", "-P", "-X", "-o", "JobID,State", "-j", ids])
    # squeue is asked last: while it knows a job, its word is the current one.
    states.update(_pairs(["squeue", "-h", "-r", "-t", "all", "-o", "%i|%T", "-j", ids]))
    return states


def _pairs(argv: list[str]) -> dict[str, str]:
    """``job|state`` lines of a Slurm query; {} if the tool is missing or fails."""
    shown = run_tool(argv, timeout_s=60)
    if shown.returncode != 0:
        return {}
    states = {}
    for line in shown.stdout.splitlines():
        job_id, _, state = line.strip().partition("|")
        if job_id and state:
            # sacct writes "CANCELLED by 0"; keep the state word.
            states[job_id] = state.split()[0]
    return states


@dataclass(frozen=True)
class TaskState:
    """A task as ``ml-slurm status`` shows it: Slurm's word on its job, its status
    file's state, and the last row of its metrics.csv ({} before the first epoch)."""

    index: int
    label: str
    job_id: str | None
    slurm_state: str | None
    file_state: str | None
    run_dir: Path
    last_epoch: dict[str, Any]

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


def task_states(record: dict[str, Any]) -> list[TaskState]:
    """The state of every task of a submission record, from Slurm, the status files
    and the run dirs."""
    job_of = {}
    for submission in record["submissions"]:
        job_id = submission["job_id"]
        for index in submission["indices"]:
            job_of[index] = f"{job_id}_{index}" if record["array"] else job_id
    states = job_states(job_of.values())
    return [
        TaskState(
            index=task["index"],
            label=f"{task['index']} {task['group']}"
            if record["array"]
            else record["name"],
            job_id=job_of.get(task["index"]),
            slurm_state=states.get(job_of.get(task["index"], "")),
            file_state=(read_json(Path(task["status_file"])) or {}).get("state"),
            run_dir=Path(task["run_dir"]),
            last_epoch=final_epoch(Path(task["run_dir"])),
        )
        for task in record["tasks"]
    ]


def format_table(tasks: list[TaskState]) -> str:
    """An aligned text table, one line per task; ``collapsed``: the last epoch's
    validation carried a warning (the run's metrics.csv says why)."""
    rows = [("task", "job", "state", "slurm", "file", "epochs", "val_auroc")]
    rows[0] += ("collapsed", "run_dir")
    for task in tasks:
        last = task.last_epoch
        auroc = last.get("val_auroc", math.nan)
        rows.append(
            (
                task.label,
                task.job_id or "-",
                task.state,
                task.slurm_state or "-",
                task.file_state or "-",
                str(int(last.get("epoch", 0))),
                "-" if math.isnan(auroc) else f"{auroc:.4f}",
                "yes" if last.get("warning") else "-",
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
