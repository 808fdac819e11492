"""A submission's job directory (layout in the README): written once from a plan,
submitted with sbatch, read back by ``ml-slurm status`` and ``--resubmit-failed``."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ml_core.contract import create_text, write_json_atomic
from ml_core.slurm._job_script import JobSpec, array_spec
from ml_core.slurm._plan import RECORD_NAME, SCRIPT_NAME, Plan, sweep_dir
from ml_core.slurm._slurm import job_states, sbatch
from ml_core.slurm._status import TaskState, final_epoch, read_json, write_aggregate
from ml_core.slurm._sweep_file import load_sweep
from ml_core.slurm._values import SlurmInputError, SubmissionError

MANIFEST_NAME = "manifest.tsv"
AGGREGATE_NAME = "aggregate.csv"


def submit_plan(plan: Plan) -> tuple[str, Path]:
    """Write the job directory and submit its script; the plan must be ok. Returns
    sbatch's line and the log the job writes."""
    if not plan.ok or plan.job_dir is None or plan.job is None:
        raise SlurmInputError("refusing to submit: preflight failed")
    job_dir, job = plan.job_dir, plan.job
    try:
        job_dir.mkdir(parents=True)
    except FileExistsError:
        raise SlurmInputError(
            f"{job_dir} appeared meanwhile; nothing submitted"
        ) from None
    for task in job.tasks:
        task.status_file.parent.mkdir(parents=True, exist_ok=True)
    job.log_pattern.parent.mkdir(parents=True, exist_ok=True)
    create_text(job_dir / SCRIPT_NAME, plan.script or "")
    create_text(job_dir / MANIFEST_NAME, _manifest(job))
    spec = plan.spec
    record = {
        "name": job.job_name,
        "array": job.array is not None,
        "sweep_file": None if spec.source is None else str(spec.source),
        "config": None if spec.config is None else str(spec.config),
        "set": list(spec.overrides),
        "grid": spec.grid,
        "parallel": spec.parallel,
        "preset": dataclasses.asdict(job.preset),
        "git_commit": plan.git.commit,
        "git_dirty": plan.git.dirty,
        "tasks": [
            {
                "index": task.index,
                "group": task.point.group,
                "run_dir": str(task.run_dir),
                "status_file": str(task.status_file),
                "trainer_args": list(task.args.argv()),
            }
            for task in job.tasks
        ],
        "submissions": [],
    }
    try:
        line, job_id = _sbatch(job_dir, record, [task.index for task in job.tasks])
    except SubmissionError:
        shutil.rmtree(job_dir)  # nothing was submitted: leave nothing behind
        raise
    # The name sbatch gives the log: job name, job id and, in an array, the index.
    log = job.log_pattern.name.replace("%x", job.job_name)
    log = log.replace("%j", job_id).replace("%A", job_id).replace("%a", "<index>")
    return line, job.log_pattern.with_name(log)


def resubmit_failed(job_dir: Path) -> tuple[list[int], str | None]:
    """Resubmit the tasks that are neither COMPLETED nor still owned by Slurm.

    Returns the indices and sbatch's line (None when there was nothing to resubmit).
    """
    record = read_record(job_dir)
    states = task_states(job_dir)
    indices = [
        task["index"]
        for task, state in zip(record["tasks"], states, strict=True)
        if state.needs_resubmit
    ]
    if not indices:
        return [], None
    line, _ = _sbatch(job_dir, record, indices)
    return indices, line


def task_states(job_dir: Path) -> list[TaskState]:
    """The state of every task, from Slurm, the status files and the run dirs."""
    record = read_record(job_dir)
    job_of = {}
    for submission in record["submissions"]:
        job_id = submission["job_id"]
        for index in submission["indices"]:
            job_of[index] = f"{job_id}_{index}" if record["array"] else job_id
    states = job_states(job_of.values())
    return [
        TaskState(
            label=f"{task['index']} {task['group']}"
            if record["array"]
            else record["name"],
            job_id=job_of.get(task["index"]),
            slurm_state=states.get(job_of.get(task["index"], "")),
            file_state=(read_json(Path(task["status_file"])) or {}).get("state"),
            run_dir=Path(task["run_dir"]),
            last_epoch=final_epoch(Path(task["run_dir"])) or {},
        )
        for task in record["tasks"]
    ]


def aggregate_job(job_dir: Path) -> tuple[Path, int]:
    """Write ``aggregate.csv`` from every run with metrics; return it and its rows
    (nothing is written while no run has finished an epoch)."""
    runs = [(t["group"], Path(t["run_dir"])) for t in read_record(job_dir)["tasks"]]
    path = job_dir / AGGREGATE_NAME
    return path, write_aggregate(path, runs)


def find_job_dir(target: Path) -> Path:
    """The job directory of a job directory itself, a run submitted with ml-slurm, or
    a sweep file (which asks ml-train where the sweep lives)."""
    if target.suffix in {".yaml", ".yml"} and target.is_file():
        return sweep_dir(load_sweep(target))
    target = target.resolve()
    for candidate in (target, target.with_name(f"{target.name}.slurm")):
        if (candidate / RECORD_NAME).is_file():
            return candidate
    raise SlurmInputError(
        f"{target}: no ml-slurm job here (no {RECORD_NAME} in it or in "
        f"{target.name}.slurm beside it) and not a sweep file"
    )


def read_record(job_dir: Path) -> dict[str, Any]:
    record = read_json(job_dir / RECORD_NAME)
    if record is None or not {"tasks", "submissions"} <= set(record):
        raise SlurmInputError(
            f"{job_dir / RECORD_NAME}: missing, unreadable or not an ml-slurm record"
        )
    return record


def _sbatch(
    job_dir: Path, record: dict[str, Any], indices: list[int]
) -> tuple[str, str]:
    """Submit ``indices`` of the job script and append the submission to the record."""
    extra = [f"--array={array_spec(indices, record['parallel'])}"]
    line, job_id = sbatch(job_dir / SCRIPT_NAME, extra if record["array"] else [])
    record["submissions"].append(
        {
            "job_id": job_id,
            "indices": indices,
            "submitted": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    write_json_atomic(job_dir / RECORD_NAME, record)
    return line, job_id


def _manifest(job: JobSpec) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    writer.writerow(["index", "group", "run_dir", "overrides"])
    for task in job.tasks:
        overrides = json.dumps(list(task.point.overrides))
        writer.writerow([task.index, task.point.group, task.run_dir, overrides])
    return buffer.getvalue()
