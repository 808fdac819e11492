"""``ml-slurm sweep``: a grid of runs as one job array, its status and its aggregate.

Layout of ``<save_dir>/<sweep name>/``::

    sweep.json          spec, preset, git commit, every submission (job id, indices)
    manifest.tsv        one line per array index: index, group, run_dir, overrides
    job.sbatch          the array job script (one case per index)
    logs/<name>_<array job>_<index>.out
    status/task_NNN.json  written by each task: state, restarts, final metrics
    runs/task_NNN/      the run directories
    aggregate.csv       mean and std per grid point and epoch (``ml-slurm status``)
"""

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

from ml_core.contract import create_text, write_text_atomic
from ml_core.slurm.aggregate import aggregate_rows, write_aggregate
from ml_core.slurm.environment_checks import (
    GitState,
    find_project_root,
    git_state,
    venv_python,
)
from ml_core.slurm.errors import SlurmInputError, SubmissionError
from ml_core.slurm.job_script import JobSpec, TrainerTask, render_job_script
from ml_core.slurm.preflight import (
    Check,
    TrainerRequest,
    check_environment,
    check_sbatch,
    check_trainer_requests,
    git_check,
)
from ml_core.slurm.presets import Preset
from ml_core.slurm.sbatch import job_states, submit
from ml_core.slurm.shell_values import check_sbatch_path
from ml_core.slurm.sweep_spec import SweepSpec, SweepTask, format_override
from ml_core.slurm.task_state import TaskState, task_state
from ml_core.slurm.trainer import RunCheck, TrainArgs, save_dir_of, venv_script

SWEEP_RECORD = "sweep.json"
MANIFEST = "manifest.tsv"
SCRIPT_NAME = "job.sbatch"
AGGREGATE = "aggregate.csv"


@dataclass(frozen=True)
class SweepPlan:
    """Preflight results and, when they allow it, the rendered array script."""

    spec: SweepSpec
    sweep_dir: Path
    tasks: list[SweepTask]
    checks: list[Check]
    script: str | None
    git: GitState
    parallel: int | None

    @property
    def ok(self) -> bool:
        return self.script is not None and all(check.ok for check in self.checks)


def task_name(index: int) -> str:
    return f"task_{index:03d}"


def sweep_dir_for(spec: SweepSpec) -> Path:
    """``<save_dir of the base config>/<sweep name>``."""
    return save_dir_of(TrainArgs(spec.config, spec.overrides)) / spec.name


def plan_sweep(
    spec: SweepSpec, preset: Preset, workdir: Path, parallel: int | None
) -> SweepPlan:
    """Validate every task's config and render the array script; submit nothing."""
    sweep_dir = sweep_dir_for(spec)
    tasks = spec.tasks()
    git = git_state(find_project_root(workdir) or workdir)
    checks = [check_sbatch(), *check_environment(workdir), git_check(git)]
    if sweep_dir.exists():
        checks.append(
            Check(
                "sweep directory",
                ok=False,
                detail=f"{sweep_dir} exists: use --resubmit-failed, or a new sweep name",
            )
        )
    trainer_checks, invocations = check_trainer_requests(
        _trainer_requests(spec, tasks, sweep_dir)
    )
    checks += trainer_checks
    try:
        check_sbatch_path(sweep_dir, "sweep directory")
    except SlurmInputError as error:
        checks.append(Check("job script", ok=False, detail=str(error)))
        invocations = []
    if len(invocations) != len(tasks):
        return SweepPlan(spec, sweep_dir, tasks, checks, None, git, parallel)
    try:
        stage_source = _stage_source(preset, invocations)
    except SlurmInputError as error:
        checks.append(Check("staging", ok=False, detail=str(error)))
        return SweepPlan(spec, sweep_dir, tasks, checks, None, git, parallel)
    job_spec = JobSpec(
        command="sweep",
        job_name=spec.name,
        log_pattern=sweep_dir / "logs" / "%x_%A_%a.out",
        preset=preset,
        tasks=tuple(
            TrainerTask(
                invocation.args.argv(),
                invocation.run_dir,
                sweep_dir / "status" / f"{task_name(index)}.json",
            )
            for index, invocation in enumerate(invocations)
        ),
        python=venv_python(),
        trainer=venv_script("ml-train"),
        workdir=workdir,
        git_commit=git.describe(),
        array=array_spec(list(range(len(tasks))), parallel),
        stage_source=stage_source,
    )
    script = render_job_script(job_spec)
    return SweepPlan(spec, sweep_dir, tasks, checks, script, git, parallel)


def submit_sweep(plan: SweepPlan, preset: Preset) -> tuple[str, str]:
    """Write the sweep directory and submit the array; return sbatch's line and id."""
    if not plan.ok:
        raise SlurmInputError("refusing to submit: preflight failed")
    sweep_dir = plan.sweep_dir
    (sweep_dir / "logs").mkdir(parents=True)
    (sweep_dir / "status").mkdir()
    create_text(sweep_dir / SCRIPT_NAME, plan.script or "")
    create_text(sweep_dir / MANIFEST, _manifest(plan))
    record = {
        "name": plan.spec.name,
        "sweep_file": str(plan.spec.source.resolve()),
        "spec": {
            "config": str(plan.spec.config),
            "set": list(plan.spec.overrides),
            "grid": plan.spec.grid,
        },
        "tasks": len(plan.tasks),
        "parallel": plan.parallel,
        "preset": dataclasses.asdict(preset),
        "git_commit": plan.git.commit,
        "git_dirty": plan.git.dirty,
        "submissions": [],
    }
    write_text_atomic(sweep_dir / SWEEP_RECORD, json.dumps(record, indent=2) + "\n")
    indices = list(range(len(plan.tasks)))
    try:
        return _submit_indices(sweep_dir, record, indices, plan.parallel)
    except SubmissionError:
        shutil.rmtree(sweep_dir)  # nothing was submitted: leave nothing behind
        raise


def resubmit_failed(sweep_dir: Path) -> tuple[list[int], str | None]:
    """Resubmit the tasks that are neither COMPLETED nor still owned by Slurm.

    Returns the indices and sbatch's line (None when there was nothing to resubmit).
    """
    record = read_sweep_record(sweep_dir)
    indices = [
        index
        for index, task in enumerate(sweep_task_states(sweep_dir))
        if task.needs_resubmit
    ]
    if not indices:
        return [], None
    line, _ = _submit_indices(sweep_dir, record, indices, record.get("parallel"))
    return indices, line


def sweep_task_states(sweep_dir: Path) -> list[TaskState]:
    """The state of every task, from Slurm, the status files and the run dirs."""
    record = read_sweep_record(sweep_dir)
    rows = read_manifest(sweep_dir)
    job_of = {}
    for submission in record["submissions"]:
        for index in submission["indices"]:
            job_of[index] = f"{submission['job_id']}_{index}"
    states = job_states(job_of.values())
    return [
        task_state(
            label=f"{row['index']} {row['group']}",
            job_id=job_of.get(int(row["index"])),
            slurm_states=states,
            status_file=sweep_dir / "status" / f"{task_name(int(row['index']))}.json",
            run_dir=Path(row["run_dir"]),
        )
        for row in rows
    ]


def aggregate_sweep(sweep_dir: Path) -> tuple[Path, int]:
    """Write ``aggregate.csv`` from every run with metrics; return it and its rows.

    Nothing is written while no run has finished an epoch.
    """
    runs = [(row["group"], Path(row["run_dir"])) for row in read_manifest(sweep_dir)]
    path = sweep_dir / AGGREGATE
    if not aggregate_rows(runs):
        return path, 0
    return path, write_aggregate(path, runs)


def read_sweep_record(sweep_dir: Path) -> dict[str, Any]:
    path = sweep_dir / SWEEP_RECORD
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SlurmInputError(
            f"{sweep_dir}: not a sweep directory (no {SWEEP_RECORD})"
        ) from None
    except (OSError, ValueError) as error:
        raise SlurmInputError(f"{path}: unreadable ({error})") from None
    return record


def read_manifest(sweep_dir: Path) -> list[dict[str, str]]:
    path = sweep_dir / MANIFEST
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle, delimiter="\t"))
    except OSError as error:
        raise SlurmInputError(f"{path}: unreadable ({error})") from None


def array_spec(indices: list[int], parallel: int | None) -> str:
    """``0-5%2`` for a full range, ``1,4%2`` for a selection."""
    if indices == list(range(indices[0], indices[-1] + 1)) and len(indices) > 1:
        spec = f"{indices[0]}-{indices[-1]}"
    else:
        spec = ",".join(str(index) for index in indices)
    return f"{spec}%{parallel}" if parallel else spec


def _trainer_requests(
    spec: SweepSpec, tasks: list[SweepTask], sweep_dir: Path
) -> list[TrainerRequest]:
    """Per task: base overrides, the grid point, and its place in the sweep dir."""
    return [
        TrainerRequest(
            spec.config,
            (*spec.overrides, *task.overrides, *_placement(sweep_dir, task.index)),
            None,
            label=f"{task_name(task.index)} ({' '.join(task.overrides)})",
        )
        for task in tasks
    ]


def _stage_source(preset: Preset, invocations: list[RunCheck]) -> Path | None:
    if not preset.stage_data:
        return None
    sources = {invocation.data_path for invocation in invocations}
    if len(sources) != 1 or None in sources:
        raise SlurmInputError("staging needs one data.data_path shared by all tasks")
    (source,) = sources
    return source


def _placement(sweep_dir: Path, index: int) -> tuple[str, str]:
    return (
        format_override("training.save_dir", str(sweep_dir / "runs")),
        f"experiment_name={task_name(index)}",
    )


def _manifest(plan: SweepPlan) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    writer.writerow(["index", "group", "run_dir", "overrides"])
    for task in plan.tasks:
        run_dir = plan.sweep_dir / "runs" / task_name(task.index)
        writer.writerow([task.index, task.group, run_dir, json.dumps(task.overrides)])
    return buffer.getvalue()


def _submit_indices(
    sweep_dir: Path, record: dict[str, Any], indices: list[int], parallel: int | None
) -> tuple[str, str]:
    line, job_id = submit(
        sweep_dir / SCRIPT_NAME, [f"--array={array_spec(indices, parallel)}"]
    )
    record["submissions"].append(
        {
            "job_id": job_id,
            "indices": indices,
            "submitted": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    write_text_atomic(sweep_dir / SWEEP_RECORD, json.dumps(record, indent=2) + "\n")
    return line, job_id
