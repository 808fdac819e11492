"""Planning a submission, writing nothing: preflight, every task checked by ml-train, and
the job script. ``ml-slurm submit`` is a sweep of one run: the same plan, a plain job."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ml_core.slurm._job_script import JobSpec, Task, render_job_script
from ml_core.slurm._presets import Preset
from ml_core.slurm._slurm import (
    Check,
    GitState,
    check_environment,
    find_project_root,
    git_state,
)
from ml_core.slurm._sweep_file import GridPoint, SweepSpec, format_override
from ml_core.slurm._trainer import (
    RunCheck,
    TrainArgs,
    check_data_dirs,
    check_runs,
    save_dir_of,
)
from ml_core.slurm._values import SlurmInputError, check_sbatch_path

SCRIPT_NAME = "job.sbatch"
RECORD_NAME = "submission.json"


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


def sweep_dir(spec: SweepSpec) -> Path:
    """``<save_dir of the base config>/<sweep name>``."""
    base = TrainArgs(spec.config, spec.overrides, spec.device)
    return save_dir_of(base) / str(spec.name)


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
    checks += _config_checks(spec, points, answers)
    if any(answer.problem for answer in answers):
        return Plan(spec, checks, git, job_dir)
    checks += _data_checks(answers)
    name = spec.name or answers[0].experiment_name
    job_dir = job_dir or answers[0].run_dir.with_name(f"{name}.slurm")
    tasks = tuple(
        Task(i, answer.args, answer.run_dir, _status_file(spec, job_dir, i), point)
        for i, (point, answer) in enumerate(zip(points, answers, strict=True))
    )
    try:
        job = JobSpec(
            job_name=name,
            log_pattern=check_sbatch_path(job_dir, "job directory")
            / ("logs/%x_%A_%a.out" if spec.is_array else "%x_%j.out"),
            preset=preset,
            tasks=tasks,
            workdir=workdir,
            git_commit=git.describe(),
            array=tuple(range(len(tasks))) if spec.is_array else None,
            parallel=spec.parallel,
            stage_source=_stage_source(preset, answers),
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


def _config_checks(
    spec: SweepSpec, points: list[GridPoint], answers: list[RunCheck]
) -> list[Check]:
    """One failure per task ml-train refuses, else one line for all."""
    failed = [
        Check(
            f"{task_name(i)} ({' '.join(point.overrides)})"
            if spec.is_array
            else "config",
            ok=False,
            detail=answer.problem,
        )
        for i, (point, answer) in enumerate(zip(points, answers, strict=True))
        if answer.problem is not None
    ]
    if failed:
        return failed
    run_dirs = sorted(str(answer.run_dir) for answer in answers)
    more = "" if len(run_dirs) <= 3 else f" (+{len(run_dirs) - 3} more)"
    detail = f"valid; run dir {', '.join(run_dirs[:3])}{more}"
    return [Check("config", ok=True, detail=detail)]


def _data_checks(answers: list[RunCheck]) -> list[Check]:
    """Each distinct data directory once (a sweep's tasks usually share one)."""
    data_paths = {answer.data_path for answer in answers}
    checks = []
    if None in data_paths:
        checks.append(Check("data", ok=True, detail="built-in synthetic PCAM"))
    for data_path, problem in check_data_dirs(p for p in data_paths if p).items():
        detail = f"{data_path}: {problem or 'ok'}"
        checks.append(Check("data", ok=problem is None, detail=detail))
    return checks


def _stage_source(preset: Preset, answers: list[RunCheck]) -> Path | None:
    if not preset.stage_data:
        return None
    sources = {answer.data_path for answer in answers}
    if len(sources) != 1 or None in sources:
        raise SlurmInputError(
            "staging needs one data.data_path shared by every task; the built-in "
            "synthetic data cannot be staged"
        )
    return sources.pop()
