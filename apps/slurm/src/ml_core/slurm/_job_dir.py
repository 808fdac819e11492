"""A submission (layout in the README): planned by every preflight check, writing nothing
(``submit`` is a sweep of one run), then its job directory written, submitted, read back."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ml_core.contract import create_text, write_json_atomic
from ml_core.slurm._job_script import JobSpec, Task, array_spec, render_job_script
from ml_core.slurm._presets import Preset
from ml_core.slurm._slurm import (
    Check,
    GitState,
    check_environment,
    find_project_root,
    git_state,
    job_states,
    sbatch,
)
from ml_core.slurm._status import TaskState, final_epoch, read_json, write_aggregate
from ml_core.slurm._sweep_file import GridPoint, SweepSpec, format_override, load_sweep
from ml_core.slurm._trainer import TrainArgs, check_data_dirs, check_runs, sweep_dir
from ml_core.slurm._values import SlurmInputError, SubmissionError

SCRIPT_NAME = "job.sbatch"
RECORD_NAME = "submission.json"
MANIFEST_NAME = "manifest.tsv"
AGGREGATE_NAME = "aggregate.csv"


@dataclass(frozen=True)
class Plan:
    """The outcome of preflight; ``job`` and ``script`` once every check allows them."""

    spec: SweepSpec
    checks: list[Check]
    git: GitState
    job_dir: Path | None = None
    job: JobSpec | None = None
    script: str | None = None

    @property
    def ok(self) -> bool:
        return self.script is not None and all(check.ok for check in self.checks)


def task_name(index: int) -> str:
    return f"task_{index:03d}"


def plan_submission(spec: SweepSpec, preset: Preset, workdir: Path) -> Plan:
    """Run every preflight check and render the script; write and submit nothing."""
    git = git_state(find_project_root(workdir) or workdir)
    checks = [*check_environment(workdir), Check("git", ok=True, detail=git.describe())]
    try:
        job_dir = sweep_dir(spec) if spec.is_array else None
    except SlurmInputError as error:
        checks.append(Check("config", ok=False, detail=str(error)))
        return Plan(spec, checks, git)
    points = spec.points()
    answers = check_runs(
        [_train_args(spec, job_dir, i, point) for i, point in enumerate(points)]
    )
    # One failure per task ml-train refuses, else one line for all.
    for i, (point, answer) in enumerate(zip(points, answers, strict=True)):
        if answer.problem is not None:
            label = f"{task_name(i)} ({' '.join(point.overrides)})"
            what = label if spec.is_array else "config"
            checks.append(Check(what, ok=False, detail=answer.problem))
    if any(answer.problem is not None for answer in answers):
        return Plan(spec, checks, git, job_dir)
    run_dirs = sorted(str(answer.run_dir) for answer in answers)
    more = "" if len(run_dirs) <= 3 else f" (+{len(run_dirs) - 3} more)"
    detail = f"valid; run dir {', '.join(run_dirs[:3])}{more}"
    checks.append(Check("config", ok=True, detail=detail))
    # Each distinct data directory once (a sweep's tasks usually share one).
    data_paths = {answer.data_path for answer in answers}
    if None in data_paths:
        checks.append(Check("data", ok=True, detail="built-in synthetic PCAM"))
    for data_path, problem in check_data_dirs(p for p in data_paths if p).items():
        detail = f"{data_path}: {problem or 'ok'}"
        checks.append(Check("data", ok=problem is None, detail=detail))
    name = spec.name or answers[0].experiment_name
    job_dir = job_dir or answers[0].run_dir.with_name(f"{name}.slurm")
    tasks = tuple(
        Task(i, answer.args, answer.run_dir, _status_file(spec, job_dir, i), point)
        for i, (point, answer) in enumerate(zip(points, answers, strict=True))
    )
    try:
        job = JobSpec(
            job_name=name,
            log_pattern=job_dir
            / ("logs/%x_%A_%a.out" if spec.is_array else "%x_%j.out"),
            preset=preset,
            tasks=tasks,
            workdir=workdir,
            git_commit=git.describe(),
            array=tuple(range(len(tasks))) if spec.is_array else None,
            parallel=spec.parallel,
            stage_source=_stage_source(preset, data_paths),
        )
        script = render_job_script(job)
    except SlurmInputError as error:
        checks.append(Check("job script", ok=False, detail=str(error)))
        return Plan(spec, checks, git, job_dir)
    if job_dir.exists():
        detail = (
            f"{job_dir} exists: submitted before (resubmit its unfinished tasks with "
            f"`ml-slurm sweep --resubmit-failed {job_dir}`), or choose a new name"
        )
        checks.append(Check("job directory", ok=False, detail=detail))
    return Plan(spec, checks, git, job_dir, job, script)


def _train_args(
    spec: SweepSpec, job_dir: Path | None, index: int, point: GridPoint
) -> TrainArgs:
    """Base overrides, the grid point and, in a sweep, its place in the sweep dir."""
    overrides = (*spec.overrides, *point.overrides)
    if job_dir is not None:
        runs = format_override("training.save_dir", str(job_dir / "runs"))
        overrides += (runs, f"experiment_name={task_name(index)}")
    return TrainArgs(spec.config, overrides, spec.device)


def _status_file(spec: SweepSpec, job_dir: Path, index: int) -> Path:
    if spec.is_array:
        return job_dir / "status" / f"{task_name(index)}.json"
    return job_dir / "status.json"


def _stage_source(preset: Preset, data_paths: set[Path | None]) -> Path | None:
    if not preset.stage_data:
        return None
    if len(data_paths) != 1 or None in data_paths:
        raise SlurmInputError(
            "staging needs one data.data_path shared by every task; the built-in "
            "synthetic data cannot be staged"
        )
    return next(iter(data_paths))


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
    manifest = io.StringIO()
    writer = csv.writer(manifest, delimiter="\t", lineterminator="\n")
    writer.writerow(["index", "group", "run_dir", "overrides"])
    for task in job.tasks:
        overrides = json.dumps(list(task.point.overrides))
        writer.writerow([task.index, task.point.group, task.run_dir, overrides])
    create_text(job_dir / MANIFEST_NAME, manifest.getvalue())
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
    """Resubmit the tasks that are neither COMPLETED nor still owned by Slurm; return
    their indices and sbatch's line (None when there was nothing to resubmit)."""
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
