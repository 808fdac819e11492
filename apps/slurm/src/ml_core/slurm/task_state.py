"""One state per task from what Slurm says and what the task's status file says."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml_core.slurm.aggregate import read_metrics
from ml_core.slurm.sbatch import LIVE_STATES
from ml_core.slurm.task_status import read_status

FINAL_FILE_STATES = frozenset({"COMPLETED", "FAILED"})


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

    @property
    def state(self) -> str:
        """Slurm's word while it owns the job, else the status file's, else MISSING."""
        if self.slurm_state in LIVE_STATES:
            return self.slurm_state
        if self.file_state in FINAL_FILE_STATES:
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


def task_state(
    label: str,
    job_id: str | None,
    slurm_states: dict[str, str],
    status_file: Path,
    run_dir: Path,
) -> TaskState:
    """Combine Slurm's state of ``job_id``, the status file and the run's metrics."""
    status: dict[str, Any] = read_status(status_file) or {}
    metrics = read_metrics(run_dir)
    last = metrics[max(metrics)] if metrics else {}
    return TaskState(
        label=label,
        job_id=job_id,
        slurm_state=slurm_states.get(job_id) if job_id else None,
        file_state=status.get("state"),
        run_dir=run_dir,
        epochs_done=max(metrics) if metrics else 0,
        last_val_auroc=last.get("val_auroc"),
    )


def format_table(tasks: list[TaskState]) -> str:
    """An aligned text table, one line per task."""
    header = ("task", "job", "state", "slurm", "file", "epochs", "val_auroc", "run_dir")
    rows = [header]
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
                str(task.run_dir),
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in rows
    )
