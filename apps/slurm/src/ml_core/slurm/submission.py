"""``ml-slurm submit``: one training run as one self-requeuing Slurm job.

Layout beside the run directory ``<save_dir>/<experiment_name>/``::

    <save_dir>/<experiment_name>.slurm/
        job.sbatch          the job script (resubmit it with sbatch to continue)
        submission.json     preset, trainer arguments, git commit, job id
        status.json         written by the job: state, restarts, final metrics
        <name>_<jobid>.out  the job's log (appended across requeues)
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ml_core.contract import create_text, write_text_atomic
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
from ml_core.slurm.shell_values import check_name, check_sbatch_path
from ml_core.slurm.task_state import TaskState, task_state
from ml_core.slurm.trainer import RunCheck, venv_script

SCRIPT_NAME = "job.sbatch"
RECORD_NAME = "submission.json"
STATUS_NAME = "status.json"


@dataclass(frozen=True)
class SubmitPlan:
    """The outcome of preflight: checks, and the script if one could be rendered."""

    checks: list[Check]
    script: str | None
    job_dir: Path | None
    invocation: RunCheck | None
    git: GitState

    @property
    def ok(self) -> bool:
        return self.script is not None and all(check.ok for check in self.checks)


@dataclass(frozen=True)
class Submitted:
    """What sbatch said, and where the job writes."""

    sbatch_line: str
    job_id: str
    log: Path
    script: Path


def job_dir_for(run_dir: Path) -> Path:
    """``<save_dir>/<experiment_name>.slurm``: the job's files, beside its run dir."""
    return run_dir.with_name(f"{run_dir.name}.slurm")


def plan_submission(
    request: TrainerRequest, preset: Preset, workdir: Path
) -> SubmitPlan:
    """Run every preflight check and render the script; submit nothing."""
    git = git_state(find_project_root(workdir) or workdir)
    checks = [check_sbatch(), *check_environment(workdir), git_check(git)]
    trainer_checks, invocations = check_trainer_requests([request])
    checks += trainer_checks
    if not invocations:
        return SubmitPlan(checks, None, None, None, git)
    (invocation,) = invocations
    job_dir = job_dir_for(invocation.run_dir)
    try:
        check_name(invocation.experiment_name, "experiment_name")
        check_sbatch_path(job_dir, "job directory")
        stage_source = _stage_source(preset, invocation)
    except SlurmInputError as error:
        checks.append(Check("job script", ok=False, detail=str(error)))
        return SubmitPlan(checks, None, job_dir, invocation, git)
    if job_dir.exists():
        checks.append(
            Check(
                "job directory",
                ok=False,
                detail=f"{job_dir} exists: this experiment was submitted before "
                f"(continue it with `sbatch {job_dir / SCRIPT_NAME}`, or choose a new "
                "experiment_name)",
            )
        )
    spec = JobSpec(
        command="submit",
        job_name=invocation.experiment_name,
        log_pattern=job_dir / "%x_%j.out",
        preset=preset,
        tasks=(
            TrainerTask(
                invocation.args.argv(), invocation.run_dir, job_dir / STATUS_NAME
            ),
        ),
        python=venv_python(),
        trainer=venv_script("ml-train"),
        workdir=workdir,
        git_commit=git.describe(),
        stage_source=stage_source,
    )
    return SubmitPlan(checks, render_job_script(spec), job_dir, invocation, git)


def submit_plan(plan: SubmitPlan, preset: Preset) -> Submitted:
    """Write the job directory and submit its script; the plan must be ok."""
    if not plan.ok or plan.job_dir is None or plan.invocation is None:
        raise SlurmInputError("refusing to submit: preflight failed")
    plan.job_dir.mkdir(parents=True)
    script = plan.job_dir / SCRIPT_NAME
    create_text(script, plan.script or "")
    record = {
        "submitted": datetime.now(UTC).isoformat(timespec="seconds"),
        "run_dir": str(plan.invocation.run_dir),
        "trainer_args": list(plan.invocation.args.argv()),
        "preset": dataclasses.asdict(preset),
        "git_commit": plan.git.commit,
        "git_dirty": plan.git.dirty,
        "job_id": None,
    }
    record_path = plan.job_dir / RECORD_NAME
    write_text_atomic(record_path, json.dumps(record, indent=2) + "\n")
    try:
        line, job_id = submit(script)
    except SubmissionError:
        shutil.rmtree(plan.job_dir)  # nothing was submitted: leave nothing behind
        raise
    record["job_id"] = job_id
    write_text_atomic(record_path, json.dumps(record, indent=2) + "\n")
    log = plan.job_dir / f"{plan.invocation.experiment_name}_{job_id}.out"
    return Submitted(line, job_id, log, script)


def _stage_source(preset: Preset, invocation: RunCheck) -> Path | None:
    if not preset.stage_data:
        return None
    if invocation.data_path is None:
        raise SlurmInputError(
            "staging asked for, but the config uses the built-in synthetic data "
            "(set data.data_path)"
        )
    return invocation.data_path


def job_dir_of(target: Path) -> Path:
    """The job directory for a run directory, or ``target`` if it is one itself."""
    job_dir = (
        target if target.name.endswith(".slurm") else job_dir_for(target.resolve())
    )
    if not (job_dir / RECORD_NAME).is_file():
        raise SlurmInputError(
            f"{target}: no ml-slurm job ({job_dir / RECORD_NAME} missing)"
        )
    return job_dir


def submitted_task_state(job_dir: Path) -> TaskState:
    """The state of the job submitted from ``job_dir``."""
    record_path = job_dir / RECORD_NAME
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SlurmInputError(f"{record_path}: unreadable ({error})") from None
    job_id = record.get("job_id")
    return task_state(
        label=job_dir.name.removesuffix(".slurm"),
        job_id=job_id,
        slurm_states=job_states([job_id]) if job_id else {},
        status_file=job_dir / STATUS_NAME,
        run_dir=Path(record["run_dir"]),
    )
