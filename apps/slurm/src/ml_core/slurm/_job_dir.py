"""A submission (layout in the README): planned by every preflight check, writing nothing
(``submit`` is a sweep of one run), then its job directory written, submitted, read back."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ml_core.contract import create_text, write_json_atomic
from ml_core.slurm._job_script import JobSpec, Task, array_spec, render_job_script
from ml_core.slurm._preflight import (
    Check,
    GitState,
    TrainArgs,
    check_data_dirs,
    check_environment,
    check_runs,
    find_project_root,
    git_state,
    sweep_dir,
)
from ml_core.slurm._presets import Preset
from ml_core.slurm._status import read_json
from ml_core.slurm._sweep_file import SweepSpec, format_override, load_sweep
from ml_core.slurm._values import SlurmInputError, SubmissionError, run_tool

SCRIPT_NAME = "job.sbatch"
RECORD_NAME = "submission.json"
MANIFEST_NAME = "manifest.tsv"
SUBMITTED_PATTERN = re.compile(r"Submitted batch job (\d+)")


@dataclass(frozen=True)
class Plan:
    """The outcome of preflight; ``job`` and ``script`` once every check allows them."""

    spec: SweepSpec
    checks: list[Check]
    git: GitState
    job_dir: Path | None = None
    job: JobSpec | None = None
    script: str = ""

    @property
    def ok(self) -> bool:
        return self.job is not None and all(check.ok for check in self.checks)


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
    runs = []
    for index, point in enumerate(points):
        overrides = (*spec.overrides, *point.overrides)
        if job_dir is not None:  # a sweep's runs live in its directory
            save_dir = format_override("training.save_dir", str(job_dir / "runs"))
            overrides += (save_dir, f"experiment_name={task_name(index)}")
        runs.append(TrainArgs(spec.config, overrides, spec.device))
    answers = check_runs(runs)
    # One failure per task ml-train refuses, else one line for all.
    for index, (point, answer) in enumerate(zip(points, answers, strict=True)):
        if answer.problem is not None:
            label = f"{task_name(index)} ({' '.join(point.overrides)})"
            what = label if spec.is_array else "config"
            checks.append(Check(what, ok=False, detail=answer.problem))
    if any(answer.problem is not None for answer in answers):
        return Plan(spec, checks, git)
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
        Task(
            index,
            answer.args,
            answer.run_dir,
            _status_file(job_dir, index, spec),
            point,
        )
        for index, (point, answer) in enumerate(zip(points, answers, strict=True))
    )
    if preset.stage_data and (len(data_paths) != 1 or None in data_paths):
        detail = (
            "staging needs one data.data_path shared by every task; the built-in "
            "synthetic data cannot be staged"
        )
        checks.append(Check("job script", ok=False, detail=detail))
        return Plan(spec, checks, git)
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
            stage_source=answers[0].data_path if preset.stage_data else None,
        )
        script = render_job_script(job)
    except SlurmInputError as error:
        checks.append(Check("job script", ok=False, detail=str(error)))
        return Plan(spec, checks, git)
    if job_dir.exists():
        detail = (
            f"{job_dir} exists: submitted before (resubmit its unfinished tasks with "
            f"`ml-slurm sweep --resubmit-failed {job_dir}`), or choose a new name"
        )
        checks.append(Check("job directory", ok=False, detail=detail))
    return Plan(spec, checks, git, job_dir, job, script)


def _status_file(job_dir: Path, index: int, spec: SweepSpec) -> Path:
    if spec.is_array:
        return job_dir / "status" / f"{task_name(index)}.json"
    return job_dir / "status.json"


def submit_plan(plan: Plan) -> tuple[str, Path]:
    """Write the job directory and submit its script; the plan must be ok. Returns
    sbatch's line and the log the job writes."""
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
    create_text(job_dir / SCRIPT_NAME, plan.script)
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
        line, job_id = submit_tasks(job_dir, record, [task.index for task in job.tasks])
    except SubmissionError:
        shutil.rmtree(job_dir)  # nothing was submitted: leave nothing behind
        raise
    # The name sbatch gives the log: job name, job id and, in an array, the index.
    log = job.log_pattern.name.replace("%x", job.job_name)
    log = log.replace("%j", job_id).replace("%A", job_id).replace("%a", "<index>")
    return line, job.log_pattern.with_name(log)


def find_job(target: Path) -> tuple[Path, dict[str, Any]]:
    """The job directory and its record, found from the job directory itself, a run
    submitted with ml-slurm, or a sweep file (which asks ml-train where it lives)."""
    if target.suffix in {".yaml", ".yml"} and target.is_file():
        job_dir = sweep_dir(load_sweep(target))
    else:
        target = target.resolve()
        beside = target.with_name(f"{target.name}.slurm")
        job_dir = target if (target / RECORD_NAME).is_file() else beside
        if not (job_dir / RECORD_NAME).is_file():
            raise SlurmInputError(
                f"{target}: no ml-slurm job here (no {RECORD_NAME} in it or in "
                f"{target.name}.slurm beside it) and not a sweep file"
            )
    record = read_json(job_dir / RECORD_NAME)
    if record is None or not {"tasks", "submissions"} <= set(record):
        raise SlurmInputError(
            f"{job_dir / RECORD_NAME}: missing, unreadable or not an ml-slurm record"
        )
    return job_dir, record


def submit_tasks(
    job_dir: Path, record: dict[str, Any], indices: list[int]
) -> tuple[str, str]:
    """sbatch ``indices`` of the job script and add the submission to the record;
    return sbatch's line and the job id."""
    script = job_dir / SCRIPT_NAME
    options = []
    if record["array"]:
        options.append(f"--array={array_spec(indices, record['parallel'])}")
    submitted = run_tool(["sbatch", *options, str(script)], timeout_s=60)
    match = SUBMITTED_PATTERN.search(submitted.stdout)
    if submitted.returncode != 0 or match is None:
        message = (submitted.stderr or submitted.stdout).strip().replace("\n", " ")
        raise SubmissionError(f"sbatch {script} failed: {message}")
    record["submissions"].append(
        {
            "job_id": match.group(1),
            "indices": indices,
            "submitted": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    write_json_atomic(job_dir / RECORD_NAME, record)
    return match.group(0), match.group(1)
